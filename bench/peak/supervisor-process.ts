/** Parent side of supervisor-entry.ts. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EntryArgs, TickMessage } from './supervisor-entry.ts';

const ENTRY = fileURLToPath(new URL('./supervisor-entry.ts', import.meta.url));

export interface FinalMessage {
  loopP50Ms: number;
  loopP99Ms: number;
  loopP999Ms: number;
  loopMaxMs: number;
  /** Event-loop delay while submissions run (the driver opens and closes the window). */
  loadLoopP99Ms: number;
  loadLoopMaxMs: number;
  maxRss: number;
  cpuUs: number;
  terminal: Record<string, number>;
  deadLetters: Record<string, number> | null;
  jobsInMemory: number | null;
  /** Per-stage time of succeeded jobs, ms (see supervisor-entry.ts). */
  stagesMs: Record<string, { p50: number; p95: number; p99: number }>;
}

export class SupervisorProcess {
  readonly ticks: TickMessage[] = [];
  readonly exited: Promise<void>;
  onTick: ((tick: TickMessage) => void) | undefined;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: { type?: string }) => {
      if (message?.type === 'tick') {
        this.ticks.push(message as TickMessage);
        this.onTick?.(message as TickMessage);
      }
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get last(): TickMessage | undefined {
    return this.ticks.at(-1);
  }

  static async start(args: EntryArgs, env: Record<string, string> = {}): Promise<SupervisorProcess> {
    const child = fork(ENTRY, [JSON.stringify(args)], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    });
    const handle = new SupervisorProcess(child);
    await handle.waitFor('ready', 60_000);
    return handle;
  }

  private waitFor<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`supervisor-entry: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (message: { type?: string }) => {
        if (message?.type !== type) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message as T);
      };
      this.child.on('message', onMessage);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error('supervisor-entry exited'));
      });
    });
  }

  /** fakes mode: submit requests `from`..`to`-1 of a stream inside the supervisor process. */
  submit(stream: { prefix: string; contextBytes: number; priority: 'interactive' | 'bulk' }, from: number, to: number): void {
    this.child.send({ type: 'submit', from, to, prefix: stream.prefix, contextBytes: stream.contextBytes, priority: stream.priority });
  }

  /** Opens or closes the load window of the event-loop delay figures. */
  window(open: boolean): void {
    this.child.send({ type: 'window', open });
  }

  async final(): Promise<FinalMessage> {
    const answer = this.waitFor<FinalMessage>('final', 10_000);
    this.child.send({ type: 'final' });
    return answer;
  }

  /** Drain and exit; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.child.send({ type: 'stop' });
    } catch {
      // Channel gone.
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
