import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { OutputCheck } from '../../jobs/output-quality.ts';
import type { EncodedMessages } from '../llm-provider.ts';
import { runCpuTask, type AnswerCheckOptions, type CpuTask, type PrepareTask, type PreparedPrompt } from './cpu-tasks.ts';
import { TwoLaneTaskQueue, URGENT } from './two-lane-task-queue.ts';
import type { CpuWorkerData } from './cpu-worker.ts';

export interface CpuPoolOptions {
  /** Worker threads; 0 runs tasks inline on the event loop (for tiny deployments and tests). */
  threads: number;
  /** Tasks queued beyond this are refused rather than buffered without bound. */
  maxQueue: number;
  /**
   * Scheduling priority of the worker threads, 0 (the event loop's) to 19 (lowest); default 0.
   * When the cores are short, the event loop (lease renewals, heartbeats, I/O) runs first and
   * rendering takes what is left: a late prompt costs a little freshness, a late renewal costs
   * ownership.
   */
  niceness?: number;
}

/**
 * Tasks handed to a thread ahead of its need: it runs them back to back instead of idling until
 * a busy event loop gets round to handing it the next (at peak, the thread sat half idle with a
 * backlog of renders at 4). An urgent check waits behind at most this many, a few ms each.
 */
const TASKS_PER_THREAD = 32;

function abortError(signal: AbortSignal): Error {
  const error = new Error('The task has been aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/**
 * Runs per-job CPU work (prompt rendering, token estimation, the output check) off the event
 * loop, so that the loop stays free for heartbeats and I/O: a late lease renewal costs ownership.
 */
export class CpuPool {
  private readonly pool: Piscina | undefined;
  private closed: Promise<void> | undefined;

  constructor(options: CpuPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 0) throw new RangeError(`threads must be an integer >= 0, got ${options.threads}`);
    const niceness = options.niceness ?? 0;
    if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw new RangeError(`niceness must be an integer 0-19, got ${options.niceness}`);
    if (options.threads > 0) {
      this.pool = new Piscina({
        filename: new URL('./cpu-worker-entry.mjs', import.meta.url).href,
        minThreads: options.threads,
        maxThreads: options.threads,
        maxQueue: options.maxQueue,
        concurrentTasksPerWorker: TASKS_PER_THREAD,
        taskQueue: new TwoLaneTaskQueue(),
        idleTimeout: 60_000,
        workerData: { niceness } satisfies CpuWorkerData,
      });
    }
  }

  /** Tasks waiting for a thread (not counting those handed to one ahead); 0 inline. */
  get queued(): number {
    return this.pool?.queueSize ?? 0;
  }

  static defaultThreads(): number {
    return Math.max(1, availableParallelism() - 1);
  }

  /**
   * Renders a prompt on a worker thread. `task.contextBytes` is transferred when it owns its
   * memory whole (the caller must not use it afterwards), copied when it is a view of a larger
   * buffer (a pooled Buffer: moving it would detach the others).
   */
  prepare(task: PrepareTask, signal?: AbortSignal): Promise<PreparedPrompt> {
    const bytes = task.contextBytes;
    const movable = bytes !== undefined && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    return this.run(task, signal, movable ? [bytes.buffer as ArrayBuffer] : undefined) as Promise<PreparedPrompt>;
  }

  /**
   * `checkOutput` of an answer against the prompt it answers, on a worker thread, ahead of any
   * prompt waiting to be rendered.
   */
  check(text: string, options: AnswerCheckOptions, messages: EncodedMessages, signal?: AbortSignal): Promise<OutputCheck> {
    return this.run({ kind: 'check', text, options, messages, [Piscina.queueOptionsSymbol]: URGENT } as CpuTask, signal) as Promise<OutputCheck>;
  }

  /**
   * An aborted job stops waiting at once; its task, a few milliseconds of work, runs out on its
   * thread and is dropped. The signal is not handed to piscina: aborting a running task there
   * ends the whole thread, and with it the other jobs' tasks it holds.
   */
  private async run(task: CpuTask, signal: AbortSignal | undefined, transferList?: ArrayBuffer[]): Promise<PreparedPrompt | OutputCheck> {
    if (signal?.aborted) throw abortError(signal);
    if (!this.pool) return runCpuTask(task);
    const result = this.pool.run(task, transferList ? { transferList } : {});
    if (!signal) return result;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([result, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort as () => void);
      // The task's own failure after an abort has no one left to hear it.
      result.catch(() => undefined);
    }
  }

  close(): Promise<void> {
    this.closed ??= this.pool ? this.pool.destroy() : Promise.resolve();
    return this.closed;
  }
}
