import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { OutputCheck, OutputCheckOptions } from '../../jobs/output-quality.ts';
import { runCpuTask, type PrepareTask, type PreparedPrompt } from './cpu-tasks.ts';

export interface CpuPoolOptions {
  /** Worker threads; 0 runs tasks inline on the event loop (for tiny deployments and tests). */
  threads: number;
  /** Tasks queued beyond this are refused rather than buffered without bound. */
  maxQueue: number;
}

/**
 * Runs per-job CPU work (prompt rendering, token estimation, the output check) off the event loop, so that the
 * loop stays free for heartbeats and I/O: a late lease renewal costs ownership.
 */
export class CpuPool {
  private readonly pool: Piscina | undefined;
  private closed: Promise<void> | undefined;

  constructor(options: CpuPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 0) throw new RangeError(`threads must be an integer >= 0, got ${options.threads}`);
    if (options.threads > 0) {
      this.pool = new Piscina({
        filename: new URL('./cpu-worker-entry.mjs', import.meta.url).href,
        minThreads: options.threads,
        maxThreads: options.threads,
        maxQueue: options.maxQueue,
        idleTimeout: 60_000,
      });
    }
  }

  static defaultThreads(): number {
    return Math.max(1, availableParallelism() - 1);
  }

  async prepare(task: PrepareTask, signal?: AbortSignal): Promise<PreparedPrompt> {
    if (!this.pool) return runCpuTask(task);
    return (await this.pool.run(task, signal ? { signal } : {})) as PreparedPrompt;
  }

  /** `checkOutput(text, options)` on a worker thread. */
  async check(text: string, options: OutputCheckOptions, signal?: AbortSignal): Promise<OutputCheck> {
    if (!this.pool) return runCpuTask({ kind: 'check', text, options });
    return (await this.pool.run({ kind: 'check', text, options }, signal ? { signal } : {})) as OutputCheck;
  }

  close(): Promise<void> {
    this.closed ??= this.pool ? this.pool.destroy() : Promise.resolve();
    return this.closed;
  }
}
