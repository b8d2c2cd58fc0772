import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WardenError } from '../../errors.ts';
import { onProcessExit } from './process-cleanup.ts';

/** The emulators server-child-entry.ts knows how to run. */
export type ChildServerKind = 'dynalite' | 'fauxqs';

export interface ChildServerOptions {
  /** 0 (default) lets the child bind any free port and report it back, which has no port race. */
  port?: number;
  region?: string;
  startTimeoutMs?: number;
}

export interface ChildServer {
  readonly port: number;
  readonly pid: number;
  /** SIGKILLs the child (its state is in memory only, nothing to flush). Idempotent. */
  stop(): Promise<void>;
}

/** Message the child sends over IPC once it listens. */
export interface ChildReadyMessage {
  type: 'listening';
  port: number;
}

const ENTRY = fileURLToPath(new URL('./server-child-entry.ts', import.meta.url));

/**
 * Runs an emulator in its own Node process. The child talks to us over an IPC channel and exits
 * when that channel disconnects, which the kernel guarantees on any death of ours (even SIGKILL),
 * so no emulator outlives the process that started it.
 */
export function startChildServer(kind: ChildServerKind, options: ChildServerOptions = {}): Promise<ChildServer> {
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  // The child runs TypeScript, so it needs the tsx loader; resolve it from here rather than from
  // the child's cwd, and do not inherit execArgv (it may carry --test or inspector flags).
  const child: ChildProcess = fork(ENTRY, [kind, String(options.port ?? 0), options.region ?? 'us-east-1'], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4_096);
    process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const unregister = onProcessExit(() => {
    child.kill('SIGKILL');
  });

  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new WardenError('infra_start_failed', `${kind} child did not listen within ${timeoutMs} ms`)), timeoutMs);
    child.once('message', (message: ChildReadyMessage) => {
      clearTimeout(timer);
      if (message?.type === 'listening' && Number.isInteger(message.port)) resolve(message.port);
      else reject(new WardenError('infra_start_failed', `${kind} child sent an unexpected message: ${JSON.stringify(message)}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new WardenError('infra_start_failed', `${kind} child exited before listening: ${stderrTail.trim()}`));
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      unregister();
    })();
    return stopping;
  };

  return ready.then(
    (port) => ({ port, pid: child.pid ?? -1, stop }),
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
}
