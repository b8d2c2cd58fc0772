import type { Logger } from 'pino';
import { OwnershipLostError, WardenError } from '../errors.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import type { JobEvent } from '../jobs/job-states.ts';
import { inputsStillCurrent } from '../jobs/record-currency.ts';
import { transition, type JobEffect } from '../jobs/transition-table.ts';
import type { CheckpointStore, JobPatch } from '../runtime/checkpoint-store.ts';
import type { Clock } from '../runtime/clock.ts';
import type { DeadLetterSink } from '../runtime/job-queue.ts';
import { LlmCallError } from '../runtime/llm-provider.ts';
import { METRIC, type Metrics } from '../runtime/metrics.ts';
import type { RecordStore, StoredRecord } from '../runtime/record-store.ts';
import type { Generation, ReadyCall } from './generation.ts';
import type { AccessLog } from '../runtime/access-log/access-log.ts';
import { openResult, sealResult } from '../runtime/crypto/job-sealing.ts';
import type { PayloadCipher } from '../runtime/crypto/payload-cipher.ts';
import type { Ownership } from './ownership.ts';
import { retryDelayMs } from './retry-policy.ts';
import { writeBack } from './write-back.ts';

export interface JobRunnerDeps {
  checkpoints: CheckpointStore;
  records: RecordStore;
  /** Prompt preparation, the breaker and limiter, and the provider call. */
  generation: Generation;
  /** Seals the memoized result and opens it for the write-back. */
  cipher: PayloadCipher;
  accessLog: AccessLog;
  member: string;
  deadLetters: DeadLetterSink;
  /** Operators may pause bulk (backfill) jobs per prompt version; interactive jobs never wait. */
  isBackfillPaused?: (promptVersion: string) => boolean;
  metrics: Metrics;
  clock: Clock;
  policy: { maxAttempts: number; backoffBaseMs: number; backoffMaxMs: number; maxConflictRetries: number };
}

const PAYLOAD_FAILURES: ReadonlySet<string> = new Set(['payload_integrity', 'payload_decrypt_failed']);

/** A paused backfill job's message comes back this often to see whether the pause is over. */
const BACKFILL_PAUSE_RECHECK_S = 30;

/** What the actor does with the job's SQS message once the runner stops. */
export type Disposition = { kind: 'delete' } | { kind: 'hide'; seconds: number } | { kind: 'return' };

type Step = { event: JobEvent; reason?: string; patch?: JobPatch };

/** What the actor wants to hear about while a job runs. */
export interface RunHooks {
  /** The job was claimed for its LLM call (queued or leased → running): it waits no more. */
  onStarted?: () => void;
}

/** What one run learns on the way and uses later: the record read, the call made ready. */
interface RunState {
  record?: StoredRecord;
  ready?: ReadyCall;
}

type Effect = JobEffect;

/** Effects performed inside the job loop; the others end the run and concern the message. */
const IN_LOOP: ReadonlySet<Effect> = new Set(['check_record', 'call_llm', 'write_back']);

/**
 * Walks one job from its checkpointed state to a terminal state or a scheduled retry. Each step
 * is one conditional checkpoint; the transition table names the effect to perform next.
 */
export class JobRunner {
  constructor(private readonly deps: JobRunnerDeps) {}

  async run(start: JobRecord, ownership: Ownership, log: Logger, hooks: RunHooks = {}): Promise<Disposition> {
    let job = start;
    const state: RunState = {};
    let effects: readonly Effect[] | 'reclaim' | 'not_owner' = this.resumeEffects(job, ownership);
    if (effects === 'not_owner') return { kind: 'return' };
    if (job.state === 'queued') {
      const wait = this.admissionWait(job);
      if (wait) return wait;
    }
    if (effects === 'reclaim') {
      ({ job, effects } = await this.apply(job, { event: 'reclaim', reason: `taken over from token ${job.token}` }, ownership, log));
    }
    for (;;) {
      const effect = effects[0];
      if (effect === undefined) throw new Error(`job ${job.id}: no effect after state ${job.state}`);
      const step = await this.perform(effect, job, ownership, log, state).catch((error: unknown) => this.payloadFailure(job, error));
      if (!('event' in step)) return step;
      ({ job, effects } = await this.apply(job, step, ownership, log));
      if (step.event === 'start') hooks.onStarted?.();
      if (!IN_LOOP.has(effects[0] as Effect)) return this.finish(job, effects as readonly JobEffect[], log);
    }
  }

  /**
   * Where to pick a job up. A queued job is not claimed with a write of its own: it is checked
   * and made ready, and the `start` checkpoint (queued → running) is its claim, one write
   * instead of two. A leased or running job with our token is continued, one with an older
   * token is taken over.
   */
  private resumeEffects(job: JobRecord, ownership: Ownership): readonly Effect[] | 'reclaim' | 'not_owner' {
    if (job.token > ownership.token) return 'not_owner';
    if (job.state === 'queued') return ['check_record'];
    // A running job with our own token means this actor restarted mid-call: that call is lost.
    if (job.token < ownership.token || job.state === 'running') return 'reclaim';
    if (job.state === 'generated') return ['write_back'];
    return ['check_record'];
  }

  /**
   * A payload that fails its digest or does not decrypt fails the job loudly and is never written
   * back; a key service that is down is a transient failure like any other.
   */
  private payloadFailure(job: JobRecord, error: unknown): Step {
    if (error instanceof WardenError && PAYLOAD_FAILURES.has(error.code)) {
      return { event: 'fail', reason: error.code, patch: { error: { code: error.code, message: error.message.slice(0, 500) } } };
    }
    if (error instanceof WardenError && error.code === 'kek_unavailable' && job.state !== 'queued') return this.failureStep(job, error);
    throw error;
  }

  /** A queued job not yet due (retry schedule) or whose backfill is paused waits in its queue. */
  private admissionWait(job: JobRecord): Disposition | undefined {
    if (job.priority === 'bulk' && this.deps.isBackfillPaused?.(job.request.prompt_version)) return { kind: 'hide', seconds: BACKFILL_PAUSE_RECHECK_S };
    const waitMs = job.next_attempt_at ? Date.parse(job.next_attempt_at) - this.deps.clock.now().getTime() : 0;
    if (waitMs > 1000) return { kind: 'hide', seconds: Math.ceil(waitMs / 1000) };
    return undefined;
  }

  private async apply(job: JobRecord, step: Step, ownership: Ownership, log: Logger) {
    const rule = transition(job.state, step.event);
    const next = await this.deps.checkpoints.transition(job.id, {
      event: step.event,
      from: job.state,
      writer: { actor: ownership.owner, token: ownership.token },
      ...(step.reason ? { reason: step.reason } : {}),
      ...(step.patch ? { patch: step.patch } : {}),
    });
    this.deps.metrics.count(METRIC.transition, 1, { State: next.state });
    log.debug({ event: step.event, from: job.state, to: next.state, reason: step.reason }, 'job transition');
    return { job: next, effects: rule.effects as readonly Effect[] };
  }

  private async perform(
    effect: Effect,
    job: JobRecord,
    ownership: Ownership,
    log: Logger,
    state: RunState,
  ): Promise<Step | Disposition> {
    switch (effect) {
      case 'check_record': {
        const record = await this.deps.records.get(job.request, ownership.signal);
        if (!record) return { event: 'fail', reason: 'record not found', patch: { error: { code: 'record_not_found', message: 'the record no longer exists' } } };
        if (!inputsStillCurrent(Object.keys(job.request.inputs), job.input_hash, record.fields)) {
          return { event: 'supersede', reason: 'record inputs changed before generation' };
        }
        state.record = record;
        // A memoized result (a redriven job) needs no prompt and no capacity: it is never paid again.
        if (!job.result) state.ready = await this.deps.generation.ready(job, ownership.signal);
        if (!ownership.isValid()) throw new OwnershipLostError(job.id, job.state, { reason: 'lease expired before the LLM call' });
        return { event: 'start', patch: { attempts: job.attempts + 1, next_attempt_at: null } };
      }
      case 'call_llm':
        return this.callLlm(job, ownership, log, state);
      case 'write_back':
        return this.writeBack(job, ownership, state.record);
      default:
        throw new Error(`effect ${effect} is performed by the actor, not in the job loop`);
    }
  }

  private async callLlm(job: JobRecord, ownership: Ownership, log: Logger, state: RunState): Promise<Step> {
    // Pay once: a job that comes round again (redrive) with a memoized result never calls again.
    if (job.result) return { event: 'generate', reason: 'memoized result reused' };
    state.ready ??= await this.deps.generation.ready(job, ownership.signal);
    const started = this.deps.clock.monotonicMs();
    this.deps.metrics.count(METRIC.llmCalls);
    try {
      const completion = await this.deps.generation.callChecked(state.ready, ownership.signal);
      this.deps.metrics.timing(METRIC.llmLatency, this.deps.clock.monotonicMs() - started);
      return {
        event: 'generate',
        patch: {
          result: {
            text: await sealResult(this.deps.cipher, job.id, completion.text),
            model: completion.model,
            prompt_tokens: completion.promptTokens,
            completion_tokens: completion.completionTokens,
            generated_at: this.deps.clock.now().toISOString(),
          },
        },
      };
    } catch (error) {
      if (!(error instanceof LlmCallError)) throw error;
      this.deps.metrics.count(METRIC.llmErrors, 1, { Code: error.code });
      if (ownership.signal.aborted) {
        // Stopped by a drain while the lease still holds: checkpoint the interruption (the attempt
        // does not count) so the next owner claims the job at once instead of taking it over.
        if (ownership.leaseHeld?.()) return { event: 'retry', reason: 'interrupted by drain', patch: { attempts: Math.max(0, job.attempts - 1), next_attempt_at: null } };
        throw new OwnershipLostError(job.id, job.state, { reason: 'aborted during the LLM call' });
      }
      log.warn({ code: error.code, attempt: job.attempts }, 'LLM call failed');
      return this.failureStep(job, error);
    }
  }

  private async writeBack(job: JobRecord, ownership: Ownership, known: StoredRecord | undefined): Promise<Step> {
    try {
      await this.deps.accessLog.append({ who: `worker:${this.deps.member}`, tenant: job.tenant, jobId: job.id, purpose: 'write_back', at: new Date() }, ownership.signal);
      const text = await openResult(this.deps.cipher, job);
      if (text === undefined) throw new Error(`job ${job.id}: write-back without a memoized result`);
      const outcome = await writeBack(this.deps.records, job, text, known, this.deps.policy.maxConflictRetries, ownership.signal);
      switch (outcome.kind) {
        case 'written':
          if (!outcome.alreadyThere) this.deps.metrics.count(METRIC.writebacks);
          return { event: 'write', reason: outcome.alreadyThere ? 'result already in the record' : 'written', patch: { written_version: outcome.version } };
        case 'superseded':
          this.deps.metrics.count(METRIC.superseded);
          return { event: 'supersede', reason: 'record inputs changed before write-back' };
        case 'record_gone':
          return { event: 'fail', reason: 'record not found', patch: { error: { code: 'record_not_found', message: 'the record no longer exists' } } };
        case 'conflicts_exhausted':
          this.deps.metrics.count(METRIC.writebackConflicts, outcome.conflicts);
          return this.failureStep(job, new WardenError('writeback_conflicts', `${outcome.conflicts} version conflicts in a row`, { retryable: true }));
      }
    } catch (error) {
      if (error instanceof WardenError && error.retryable) return this.failureStep(job, error);
      throw error;
    }
  }

  /** Transient → retry later or exhaust at the cap; permanent → fail at once. */
  private failureStep(job: JobRecord, error: WardenError): Step {
    const detail = { code: error.code, message: error.message.slice(0, 500) };
    if (!error.retryable) return { event: 'fail', reason: error.code, patch: { error: detail } };
    const attempts = job.state === 'generated' ? job.attempts + 1 : job.attempts;
    if (attempts >= this.deps.policy.maxAttempts) return { event: 'exhaust', reason: error.code, patch: { error: detail, attempts } };
    const retryAfterMs = error instanceof LlmCallError ? error.retryAfterMs : undefined;
    const delay = retryDelayMs(attempts, { baseMs: this.deps.policy.backoffBaseMs, maxMs: this.deps.policy.backoffMaxMs, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    const at = new Date(this.deps.clock.now().getTime() + delay).toISOString();
    return { event: 'retry', reason: error.code, patch: { error: detail, attempts, next_attempt_at: at } };
  }

  /** Performs the message-level effects of the last transition. */
  private async finish(job: JobRecord, effects: readonly JobEffect[], log: Logger): Promise<Disposition> {
    const body = JSON.stringify({ v: 1, job_id: job.id, trace_id: job.trace_id });
    const reason = { code: job.error?.code ?? job.state, message: job.error?.message ?? job.state };
    if (effects.includes('dead_letter_transient')) await this.deps.deadLetters.send('transient', body, reason);
    if (effects.includes('dead_letter_permanent')) await this.deps.deadLetters.send('permanent', body, reason);
    if (effects.includes('schedule_retry')) {
      const waitMs = Math.max(0, Date.parse(job.next_attempt_at ?? '') - this.deps.clock.now().getTime() || 0);
      log.info({ next_attempt_at: job.next_attempt_at, attempts: job.attempts }, 'job retry scheduled');
      return { kind: 'hide', seconds: Math.min(43_200, Math.max(0, Math.ceil(waitMs / 1000))) };
    }
    if (effects.includes('delete_message')) {
      log.info({ state: job.state, attempts: job.attempts }, 'job finished');
      return { kind: 'delete' };
    }
    return { kind: 'return' };
  }
}
