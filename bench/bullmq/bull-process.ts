/** Parent side of worker-entry.ts: one BullMQ worker process, driven over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BullWorkerConfig } from './worker-entry.ts';

const ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));

export interface BullStats {
  completed: number;
  failed: number;
  outcomes: Record<string, number>;
  cpuUs: number;
}

export class BullProcess {
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  static async start(config: BullWorkerConfig, env: NodeJS.ProcessEnv = {}): Promise<BullProcess> {
    const child = fork(ENTRY, [JSON.stringify(config)], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '', ...env },
    });
    const bull = new BullProcess(child);
    await bull.waitFor('ready', 30_000);
    return bull;
  }

  private waitFor<T>(type: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.off('message', onMessage);
        reject(new Error(`bullmq worker ${this.pid}: no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: { type?: string }) => {
        if (message?.type !== type) return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        resolve(message as T);
      };
      this.child.on('message', onMessage);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`bullmq worker ${this.pid} exited`));
      });
    });
  }

  run(): void {
    this.child.send({ type: 'run' });
  }

  async pause(): Promise<void> {
    const paused = this.waitFor('paused', 60_000);
    this.child.send({ type: 'pause' });
    await paused;
  }

  async stats(): Promise<BullStats> {
    const answer = this.waitFor<BullStats>('stats', 10_000);
    this.child.send({ type: 'stats' });
    return answer;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Graceful close, then SIGKILL after `timeoutMs`. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (!this.alive) return;
    try {
      this.child.send({ type: 'close' });
    } catch {
      // Channel already gone.
    }
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
