import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ValidationError } from '../../errors.ts';
import type { ImdsClient } from './imds-client.ts';
import type { LifecycleActions } from './lifecycle-actions.ts';

/**
 * Scale-in through an Auto Scaling termination lifecycle hook. The group puts the instance in
 * Terminating:Wait and IMDS starts answering `Terminated` at
 * /latest/meta-data/autoscaling/target-lifecycle-state; the instance then drains (the supervisor's
 * own drain, the same one SIGTERM runs), heartbeats the action while the drain takes long, and
 * completes it with CONTINUE so the group terminates it at once instead of at the hook timeout.
 *
 * Nothing here decides what a drain is: the caller passes `drain`, which must be idempotent
 * (Supervisor.stop is), because SIGTERM from systemd may start the same drain concurrently.
 */

/** Target lifecycle states that mean "this instance is on its way out". */
export const TERMINATING_STATES: ReadonlySet<string> = new Set(['Terminated', 'Warmed:Terminated']);

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

const silentLog: Log = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Log;

export interface WaitForTerminationOptions {
  imds: Pick<ImdsClient, 'targetLifecycleState'>;
  /** Poll period. Default 5000 ms (AWS suggests 5 s: the hook timeout is minutes, a poll is a local call). */
  pollIntervalMs?: number;
  signal: AbortSignal;
  log?: Log;
}

/**
 * Resolves with the target lifecycle state once it is a termination. IMDS failures are logged and
 * polling goes on: a flaky metadata read must not drain a healthy instance, nor stop watching.
 * Rejects only when `signal` aborts.
 */
export async function waitForTermination(options: WaitForTerminationOptions): Promise<string> {
  const pollIntervalMs = positiveInteger('pollIntervalMs', options.pollIntervalMs, 5_000);
  const log = options.log ?? silentLog;
  let lastError: string | undefined;
  for (;;) {
    options.signal.throwIfAborted();
    try {
      const state = await options.imds.targetLifecycleState(options.signal);
      lastError = undefined;
      if (state !== undefined && TERMINATING_STATES.has(state)) return state;
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      const message = (error as Error).message;
      // Once per distinct failure, not once per poll.
      if (message !== lastError) log.warn({ err: error }, 'reading the target lifecycle state from IMDS failed; still watching');
      lastError = message;
    }
    await sleep(pollIntervalMs, undefined, { signal: options.signal });
  }
}

export interface DrainAndCompleteOptions {
  actions: LifecycleActions;
  /** The drain: resolves once this instance has given its work up. Idempotent. */
  drain: () => Promise<void>;
  /**
   * Heartbeat period while the drain runs. Default 30 000 ms. Must stay well under the hook's
   * HeartbeatTimeout (infra sets 120 s) so one lost heartbeat does not end the wait.
   */
  heartbeatIntervalMs?: number;
  /** CompleteLifecycleAction attempts (each already retried by the SDK). Default 5. */
  completeAttempts?: number;
  /** First back-off between completion attempts, doubled each time. Default 500 ms. */
  completeBackoffMs?: number;
  log?: Log;
  /** Monotonic clock for the reported duration. Default performance.now. */
  monotonicMs?: () => number;
}

export interface LifecycleDrainOutcome {
  /** False when the drain threw; the action is completed with CONTINUE all the same (see below). */
  drained: boolean;
  drainError?: unknown;
  /** `failed`: Auto Scaling never took the completion; the hook timeout (DefaultResult) will end it. */
  completion: 'completed' | 'no_active_action' | 'failed';
  heartbeats: number;
  durationMs: number;
}

/**
 * Drains, heartbeating the lifecycle action meanwhile, then completes it with CONTINUE.
 *
 * CONTINUE even when the drain failed: whatever the drain did not finish is still safe (every job
 * is checkpointed and its message returns to the queue after the visibility timeout), and keeping a
 * half-drained instance alive buys nothing. ABANDON would terminate it too, only with a misleading
 * record.
 */
export async function drainAndComplete(options: DrainAndCompleteOptions): Promise<LifecycleDrainOutcome> {
  const heartbeatIntervalMs = positiveInteger('heartbeatIntervalMs', options.heartbeatIntervalMs, 30_000);
  const completeAttempts = positiveInteger('completeAttempts', options.completeAttempts, 5);
  const completeBackoffMs = positiveInteger('completeBackoffMs', options.completeBackoffMs, 500);
  const log = options.log ?? silentLog;
  const monotonicMs = options.monotonicMs ?? (() => performance.now());
  const started = monotonicMs();

  let heartbeats = 0;
  let beating: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (beating) return; // never two heartbeats at once: a slow one is still a heartbeat
    beating = options.actions
      .heartbeat()
      .then(() => {
        heartbeats += 1;
      })
      .catch((error: unknown) => log.warn({ err: error }, 'lifecycle heartbeat failed; the drain goes on'))
      .finally(() => {
        beating = undefined;
      });
  }, heartbeatIntervalMs);

  let drained = true;
  let drainError: unknown;
  try {
    await options.drain();
  } catch (error) {
    drained = false;
    drainError = error;
    log.error({ err: error }, 'drain failed; completing the lifecycle action anyway');
  } finally {
    clearInterval(timer);
  }
  await beating;

  let completion: LifecycleDrainOutcome['completion'] = 'failed';
  for (let attempt = 1; attempt <= completeAttempts; attempt += 1) {
    try {
      completion = await options.actions.complete('CONTINUE');
      break;
    } catch (error) {
      log.warn({ err: error, attempt }, 'CompleteLifecycleAction failed');
      if (attempt < completeAttempts) await sleep(completeBackoffMs * 2 ** (attempt - 1));
    }
  }
  const outcome: LifecycleDrainOutcome = { drained, completion, heartbeats, durationMs: Math.round(monotonicMs() - started) };
  if (drainError !== undefined) outcome.drainError = drainError;
  log.info({ drained, completion, heartbeats, duration_ms: outcome.durationMs }, 'termination lifecycle action handled');
  return outcome;
}

export interface LifecycleHookWatcherOptions extends Omit<DrainAndCompleteOptions, 'log'> {
  imds: Pick<ImdsClient, 'targetLifecycleState'>;
  pollIntervalMs?: number;
  log?: Log;
}

/**
 * Watches IMDS for a termination target and then runs drainAndComplete once. `start()` returns at
 * once; `finished` resolves with the outcome (or undefined if closed before any termination).
 */
export class LifecycleHookWatcher {
  private readonly abort = new AbortController();
  private running: Promise<LifecycleDrainOutcome | undefined> | undefined;
  private triggered = false;

  constructor(private readonly options: LifecycleHookWatcherOptions) {
    positiveInteger('pollIntervalMs', options.pollIntervalMs, 5_000);
    positiveInteger('heartbeatIntervalMs', options.heartbeatIntervalMs, 30_000);
  }

  /** True once a termination was seen and the drain started. */
  get terminating(): boolean {
    return this.triggered;
  }

  start(): void {
    this.running ??= (async () => {
      const log = this.options.log ?? silentLog;
      try {
        const state = await waitForTermination({
          imds: this.options.imds,
          signal: this.abort.signal,
          log,
          ...(this.options.pollIntervalMs !== undefined ? { pollIntervalMs: this.options.pollIntervalMs } : {}),
        });
        this.triggered = true;
        log.info({ target_lifecycle_state: state }, 'Auto Scaling is terminating this instance: draining');
      } catch {
        return undefined; // closed before any termination
      }
      return drainAndComplete({ ...this.options, log });
    })();
  }

  /** The outcome once handled; undefined when closed before a termination. */
  get finished(): Promise<LifecycleDrainOutcome | undefined> {
    return this.running ?? Promise.resolve(undefined);
  }

  /** Stops watching. A drain already started runs to its end. Safe to call twice. */
  close(): Promise<LifecycleDrainOutcome | undefined> {
    this.abort.abort();
    return this.finished;
  }
}

function positiveInteger(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && value >= 1) return value;
  throw new ValidationError('invalid_option', `lifecycle hook: ${field} must be a positive integer (ms or count), got ${value}`);
}
