import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { LeaseLostError } from '../runtime/leases/lease-lost-error.ts';
import { OwnershipLostError, ValidationError } from '../errors.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import { isTerminal } from '../jobs/job-states.ts';
import type { DeadLetterSink, PartitionQueue, ReceivedMessage } from '../runtime/job-queue.ts';
import { METRIC, type Metrics } from '../runtime/metrics.ts';
import { payloadAad } from '../runtime/crypto/payload-cipher.ts';
import { FieldLocks } from './field-locks.ts';
import type { Disposition, JobRunner } from './job-runner.ts';
import { jobForMessage, type IntakeDeps } from './message-intake.ts';
import type { Ownership } from './ownership.ts';
import { SlotGate } from './slot-gate.ts';
import { messagePriority, parseJobMessage } from '../jobs/job-message.ts';

const FATAL_QUEUE_ERRORS = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'AccessDenied', 'AccessDeniedException', 'KMSAccessDeniedException']);

function isFatalQueueError(error: unknown): boolean {
  const name = (error as { name?: string; Code?: string } | null)?.name ?? '';
  return FATAL_QUEUE_ERRORS.has(name);
}

export interface PartitionActorOptions {
  /** Jobs in flight at once; the poller asks SQS for no more than the free slots. */
  concurrency: number;
  waitTimeS: number;
  /** The queue's visibility timeout; in-flight messages are extended every third of it. */
  visibilityTimeoutS: number;
  /**
   * Bulk jobs this actor holds before their LLM call starts (waiting for the record, the
   * limiter). Beyond it a bulk message goes back to the queue for a while, so bulk work waiting
   * for capacity never fills the slots interactive work needs. Default: a quarter of concurrency.
   */
  bulkWaiting?: number;
}

interface InFlight {
  message: ReceivedMessage;
  started: boolean;
}

/** A bulk message refused for lack of room comes back after about this long (jittered). */
const BULK_REQUEUE_S = 5;
/**
 * With a backlog in the queue, the poller waits this long at most for a full batch of free
 * slots: one receive of ten messages instead of ten receives of one.
 */
const BATCH_FILL_WAIT_MS = 50;
const RECEIVE_BATCH = 10;

/**
 * Owns one partition while its lease holds: long-polls the partition queue into bounded slots,
 * runs jobs (never two of one record field at once), keeps their messages invisible while they
 * run, and stops at once when ownership is lost.
 */
export class PartitionActor {
  private readonly slots: SlotGate;
  private readonly locks = new FieldLocks();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly pollAbort = new AbortController();
  /** True while a ReceiveMessage long poll is outstanding. */
  private receiving = false;
  private readonly workAbort = new AbortController();
  private readonly ownershipForJobs: Ownership;
  /** One abort controller per job in flight, all aborted by the one listener on the shared signal. */
  private readonly jobAborts = new Set<AbortController>();
  private readonly bulkWaitingCap: number;
  private bulkWaiting = 0;
  /** The last receive came back full: there is a backlog, so wait for a whole batch of slots. */
  private backlog = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly ownership: Ownership,
    private readonly queue: PartitionQueue,
    private readonly runner: JobRunner,
    private readonly intake: IntakeDeps,
    private readonly deadLetters: DeadLetterSink,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly options: PartitionActorOptions,
  ) {
    this.slots = new SlotGate(options.concurrency);
    this.bulkWaitingCap = options.bulkWaiting ?? Math.max(1, Math.floor(options.concurrency / 4));
    const signal = AbortSignal.any([ownership.signal, this.workAbort.signal]);
    // Jobs do not listen on this signal themselves: adding a listener to an EventTarget costs time
    // proportional to the listeners already there, and thousands of jobs are in flight at peak.
    signal.addEventListener('abort', () => {
      for (const controller of this.jobAborts) controller.abort(signal.reason);
    }, { once: true });
    setMaxListeners(0, signal);
    this.ownershipForJobs = {
      partition: ownership.partition,
      owner: ownership.owner,
      // Read at every checkpoint: a lease re-granted after a Redis data loss carries a new token.
      get token() {
        return ownership.token;
      },
      signal,
      isValid: () => ownership.isValid() && !signal.aborted,
      leaseHeld: () => ownership.isValid(),
    };
    ownership.signal.addEventListener('abort', () => void this.stop(0), { once: true });
  }

  get partition(): number {
    return this.ownership.partition;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Starts polling; the promise settles when the poll loop ends (rejects if it crashed). */
  start(): Promise<void> {
    if (this.ownership.signal.aborted) return Promise.resolve();
    const interval = Math.max(1000, (this.options.visibilityTimeoutS * 1000) / 3);
    this.heartbeat = setInterval(() => this.extendVisibility(), interval);
    this.loop = Promise.all([this.pollLoop(), this.resumeUnfinished()]).then(() => undefined);
    return this.loop;
  }

  /**
   * Takeover: jobs a former owner left leased, running or generated are resumed from their
   * checkpoints at once, without waiting for their SQS messages to become visible again. When
   * those messages do come back, their jobs are terminal and the messages are simply deleted.
   */
  private async resumeUnfinished(): Promise<void> {
    let jobs;
    try {
      jobs = await this.intake.checkpoints.listUnfinished(this.ownership.partition, 1000);
    } catch (error) {
      this.log.warn({ err: error }, 'could not list unfinished jobs; they will resume from SQS redeliveries');
      return;
    }
    const orphans = jobs.filter((job) => job.state !== 'queued' && job.token < this.ownership.token);
    if (orphans.length > 0) this.log.info({ jobs: orphans.length }, 'resuming jobs left in flight by a former owner');
    for (const orphan of orphans) {
      if ((await this.slots.waitForFree(this.pollAbort.signal)) === 0) return;
      this.slots.take();
      this.metrics.count(METRIC.jobsResumed);
      const log = this.log.child({ job_id: orphan.id, trace_id: orphan.trace_id });
      void this.locks
        .run(this.fieldKey(orphan), async () => {
          const current = await this.intake.checkpoints.get(orphan.id);
          if (!current || isTerminal(current.state) || current.token >= this.ownership.token || this.stopping) return;
          await this.withJobOwnership((ownership) => this.runner.run(current, ownership, log));
        })
        .catch((error) => {
          if (error instanceof OwnershipLostError) this.metrics.count(METRIC.ownershipLost);
          else log.warn({ err: error }, 'resuming a job failed; its SQS message will bring it back');
        })
        .finally(() => this.slots.give());
    }
  }

  /**
   * The ownership one job runs under: the actor's, with a signal of its own (aborted with the
   * actor's) so that the listeners a job adds live and die with the job.
   */
  private async withJobOwnership<T>(work: (ownership: Ownership) => Promise<T>): Promise<T> {
    const shared = this.ownershipForJobs;
    const controller = new AbortController();
    if (shared.signal.aborted) controller.abort(shared.signal.reason);
    this.jobAborts.add(controller);
    const { signal } = controller;
    setMaxListeners(0, signal);
    try {
      return await work({
        partition: shared.partition,
        owner: shared.owner,
        get token() {
          return shared.token;
        },
        signal,
        isValid: () => shared.isValid() && !signal.aborted,
        leaseHeld: () => shared.leaseHeld?.() ?? shared.isValid(),
      });
    } finally {
      this.jobAborts.delete(controller);
    }
  }

  private fieldKey(job: JobRecord): string {
    return `${job.request.base_id}/${job.request.table_id}/${job.request.record_id}/${job.request.field_id}`;
  }

  private async pollLoop(): Promise<void> {
    const batch = Math.min(RECEIVE_BATCH, this.options.concurrency);
    while (!this.stopping) {
      let free = await this.slots.waitForFree(this.pollAbort.signal);
      if (free > 0 && free < batch && this.backlog) free = await this.slots.waitForFree(this.pollAbort.signal, batch, BATCH_FILL_WAIT_MS);
      if (free === 0 || this.stopping) break;
      const asked = Math.min(RECEIVE_BATCH, free);
      let messages: ReceivedMessage[];
      try {
        this.receiving = true;
        messages = await this.queue.receive(asked, this.options.waitTimeS, this.pollAbort.signal);
      } catch (error) {
        if (this.pollAbort.signal.aborted) break;
        this.receiving = false;
        // A queue that is gone or forbidden will not heal by waiting: crash, and let the
        // supervisor's restart policy (and its give-up) deal with it.
        if (isFatalQueueError(error)) throw error;
        this.log.warn({ err: error }, 'receive failed; backing off');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      this.receiving = false;
      this.backlog = messages.length === asked;
      for (const message of messages) this.accept(message);
    }
  }

  private accept(message: ReceivedMessage): void {
    if (this.stopping) {
      void this.queue.changeVisibility(message.receipt, 0).catch(() => undefined);
      return;
    }
    const entry: InFlight = { message, started: false };
    this.inFlight.set(message.receipt, entry);
    this.slots.take();
    void this.handle(entry).finally(() => {
      this.inFlight.delete(message.receipt);
      this.slots.give();
    });
  }

  private async handle(entry: InFlight): Promise<void> {
    const { message } = entry;
    let log = this.log;
    let bulk = false;
    try {
      const parsed = parseJobMessage(message.body);
      if (messagePriority(parsed) === 'bulk') {
        if (this.bulkWaiting >= this.bulkWaitingCap) {
          this.metrics.count(METRIC.bulkRequeued);
          return await this.dispose(message, { kind: 'hide', seconds: BULK_REQUEUE_S + Math.floor(Math.random() * BULK_REQUEUE_S) });
        }
        this.bulkWaiting += 1;
        bulk = true;
      }
      const { job } = await jobForMessage(this.intake, parsed);
      log = this.log.child({ job_id: job.id, trace_id: job.trace_id });
      if (isTerminal(job.state)) return await this.dispose(message, { kind: 'delete' });
      const key = this.fieldKey(job);
      const waits = this.locks.isHeld(key);
      const disposition = await this.locks.run(key, async () => {
        if (this.stopping) return { kind: 'return' } as const;
        entry.started = true;
        // Another job of this field may have run while we waited: then read the job again. A job
        // that did not wait is as fresh as the read that just loaded it (one GetItem, not two).
        const current = waits ? ((await this.intake.checkpoints.get(job.id)) ?? job) : job;
        if (isTerminal(current.state)) return { kind: 'delete' } as const;
        const onStarted = () => {
          if (bulk) this.bulkWaiting -= 1;
          bulk = false;
        };
        return this.withJobOwnership((ownership) => this.runner.run(current, ownership, log, { onStarted }));
      });
      await this.dispose(message, disposition);
    } catch (error) {
      await this.onError(message, error, log);
    } finally {
      if (bulk) this.bulkWaiting -= 1;
    }
  }

  private async onError(message: ReceivedMessage, error: unknown, log: Logger): Promise<void> {
    if (error instanceof OwnershipLostError || error instanceof LeaseLostError || this.ownershipForJobs.signal.aborted) {
      this.metrics.count(METRIC.ownershipLost);
      const coded = error as { code?: string; details?: unknown; message?: string };
      log.warn({ code: coded.code ?? 'aborted', details: coded.details }, coded.message ?? 'ownership lost; result discarded');
      return this.dispose(message, { kind: 'return' });
    }
    if (error instanceof ValidationError) {
      this.metrics.count(METRIC.poisonMessages);
      log.warn({ code: error.code }, `poison message: ${error.message}`);
      // The raw body is unknown input and may hold personal data: it is kept sealed, openable by
      // an operator with the message id as the job id of its AAD.
      const sealed = await this.intake.cipher.sealText(message.body, payloadAad(`poison:${message.messageId}`, 'request'));
      await this.deadLetters.send('permanent', JSON.stringify({ v: 1, poison_message_id: message.messageId, sealed_body: sealed }), { code: error.code, message: error.message });
      return this.dispose(message, { kind: 'delete' });
    }
    // Infrastructure trouble (DynamoDB, S3, the network): leave the message for a later attempt.
    log.error({ err: error }, 'job handling failed; message will be redelivered');
    await this.dispose(message, { kind: 'hide', seconds: 5 });
  }

  private async dispose(message: ReceivedMessage, disposition: Disposition): Promise<void> {
    try {
      if (disposition.kind === 'delete') await this.queue.delete(message.receipt);
      else await this.queue.changeVisibility(message.receipt, disposition.kind === 'return' ? 0 : disposition.seconds);
    } catch (error) {
      // The message reappears after its visibility timeout; every handler tolerates a redelivery.
      this.log.warn({ err: error, disposition: disposition.kind }, 'message disposition failed');
    }
  }

  private extendVisibility(): void {
    for (const { message } of this.inFlight.values()) {
      this.queue.changeVisibility(message.receipt, this.options.visibilityTimeoutS).catch((error) => {
        this.log.warn({ err: error }, 'visibility heartbeat failed');
      });
    }
  }

  /**
   * Stops polling, returns messages that have not started, lets running jobs finish for up to
   * `budgetMs`, then aborts the rest (their checkpoints make them resumable). Safe to call twice.
   */
  async stop(budgetMs: number): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      // Aborting a long poll on the client does not stop the server from handing it messages,
      // which would then stay invisible until their timeout. A drain lets the outstanding poll
      // return (its messages go straight back); only a hard stop or a lost lease aborts it.
      if (!this.receiving || this.ownership.signal.aborted) this.pollAbort.abort();
      for (const entry of this.inFlight.values()) {
        if (!entry.started) void this.queue.changeVisibility(entry.message.receipt, 0).catch(() => undefined);
      }
    }
    if (budgetMs === 0) this.pollAbort.abort();
    const drained = this.slots.whenIdle();
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), budgetMs).unref());
    if ((await Promise.race([drained, timer])) === 'timeout') {
      this.pollAbort.abort();
      this.workAbort.abort();
    }
    await drained;
    await this.loop?.catch(() => undefined);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.queue.flush().catch(() => undefined);
  }
}
