/**
 * In-memory implementations of warden's storage ports (CheckpointStore, PartitionQueue,
 * PayloadStore, DeadLetterSink, AccessLog) for the peak benchmark's "fakes" mode: the same runtime, actors
 * and supervisor, with the emulators (dynalite, fauxqs) taken out of the job path, so what is left
 * is warden's own cost plus its real HTTP to the LLM and the record store and its real Redis.
 *
 * They keep the contracts the runtime relies on (conditional create, state + fencing-token
 * condition on every transition with the audit line appended, visibility timeouts and receipt
 * handles, SHA-256 checked payload reads) and copy records in and out like a remote store would.
 * Two deliberate differences, both to keep a long run's memory about warden rather than about the
 * fake: payload bodies are stored once per distinct digest, and terminal jobs are dropped from
 * memory `retainTerminalMs` after they finish (the peak workload sends no late duplicates).
 */
import { createHash, randomUUID } from 'node:crypto';
import { OwnershipLostError } from '../../src/errors.ts';
import type { JobRecord, PayloadRef } from '../../src/jobs/job-record.ts';
import { isTerminal } from '../../src/jobs/job-states.ts';
import { transition } from '../../src/jobs/transition-table.ts';
import { checkAccessRecord, type AccessEntry, type AccessLog, type AccessRecord } from '../../src/runtime/access-log/access-log.ts';
import type { CheckpointStore, CreateOutcome, TransitionRequest } from '../../src/runtime/checkpoint-store.ts';
import type { DeadLetterKind, DeadLetterSink, PartitionQueue, ReceivedMessage } from '../../src/runtime/job-queue.ts';
import type { PayloadStore } from '../../src/runtime/payload-store.ts';
import { PayloadIntegrityError } from '../../src/runtime/s3/s3-payload-store.ts';

const copy = <T>(value: T): T => structuredClone(value);

export class FakeCheckpointStore implements CheckpointStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly finished: Array<{ id: string; at: number }> = [];
  private readonly sweeper: NodeJS.Timeout;
  /** Called once per job when it reaches a terminal state (the benchmark counts outcomes). */
  onTerminal: ((job: JobRecord) => void) | undefined;

  // 5 s: a finished job's message is deleted as it finishes (the fake queue never loses a
  // delete), so nothing comes back for it later; 30 s kept 12,500 finished jobs in the
  // supervisor's heap, which production keeps in DynamoDB.
  constructor(private readonly retainTerminalMs = 5_000) {
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  get size(): number {
    return this.jobs.size;
  }

  async create(job: JobRecord): Promise<CreateOutcome> {
    const existing = this.jobs.get(job.id);
    if (existing) return { created: false, job: copy(existing) };
    this.jobs.set(job.id, copy(job));
    return { created: true, job };
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const job = this.jobs.get(id);
    return job ? copy(job) : undefined;
  }

  async transition(id: string, request: TransitionRequest): Promise<JobRecord> {
    const { next } = transition(request.from, request.event);
    const job = this.jobs.get(id);
    const token = request.writer.token;
    if (!job || job.state !== request.from || (token !== undefined && job.token > token)) {
      throw new OwnershipLostError(id, request.from, { event: request.event, token });
    }
    const now = new Date().toISOString();
    job.audit.push({
      at: now,
      event: request.event,
      from: request.from,
      to: next,
      actor: request.writer.actor,
      token: token ?? -1,
      ...(request.reason ? { reason: request.reason } : {}),
    });
    job.state = next;
    job.seq += 1;
    job.updated_at = now;
    if (token !== undefined) {
      job.token = token;
      job.owner = request.writer.actor;
    }
    for (const [field, value] of Object.entries(request.patch ?? {})) {
      if (value === null || value === undefined) delete (job as unknown as Record<string, unknown>)[field];
      else (job as unknown as Record<string, unknown>)[field] = copy(value);
    }
    if (isTerminal(next)) {
      job.finished_at = now;
      this.finished.push({ id, at: Date.now() });
      this.onTerminal?.(job);
    }
    return copy(job);
  }

  async listUnfinished(partition: number, limit: number): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for (const job of this.jobs.values()) {
      if (out.length >= limit) break;
      if (job.partition === partition && !isTerminal(job.state)) out.push(copy(job));
    }
    return out;
  }

  private sweep(): void {
    const cutoff = Date.now() - this.retainTerminalMs;
    let i = 0;
    for (; i < this.finished.length && (this.finished[i] as { at: number }).at < cutoff; i += 1) {
      const { id } = this.finished[i] as { id: string };
      const job = this.jobs.get(id);
      if (job && isTerminal(job.state)) this.jobs.delete(id);
    }
    if (i > 0) this.finished.splice(0, i);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

interface StoredMessage {
  messageId: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  receipt: string | undefined;
}

/**
 * One partition queue: visibility timeouts, a new receipt per receive, long polls. Visible
 * messages wait in FIFO order; received ones sit in flight until deleted, returned
 * (visibility 0) or their visibility lapses (checked every 250 ms).
 */
export class FakePartitionQueue implements PartitionQueue {
  private visible = new Map<string, StoredMessage>();
  private readonly inFlight = new Map<string, StoredMessage>();
  private readonly delayed = new Set<StoredMessage>();
  private readonly waiters = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  sent = 0;
  received = 0;

  constructor(private readonly visibilityTimeoutS: number) {
    this.timer = setInterval(() => this.sweep(), 250);
    this.timer.unref();
  }

  get depth(): number {
    return this.visible.size + this.inFlight.size + this.delayed.size;
  }

  private sweep(): void {
    const now = Date.now();
    let woke = false;
    for (const [receipt, message] of this.inFlight) {
      if (message.visibleAt > now) continue;
      this.inFlight.delete(receipt);
      message.receipt = undefined;
      this.visible.set(message.messageId, message);
      woke = true;
    }
    for (const message of this.delayed) {
      if (message.visibleAt > now) continue;
      this.delayed.delete(message);
      this.visible.set(message.messageId, message);
      woke = true;
    }
    if (woke) this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private take(max: number): ReceivedMessage[] {
    const now = Date.now();
    const out: ReceivedMessage[] = [];
    for (const [id, message] of this.visible) {
      if (out.length >= max) break;
      this.visible.delete(id);
      message.receipt = randomUUID();
      message.receiveCount += 1;
      message.visibleAt = now + this.visibilityTimeoutS * 1000;
      this.inFlight.set(message.receipt, message);
      out.push({ messageId: message.messageId, receipt: message.receipt, body: message.body, receiveCount: message.receiveCount });
    }
    this.received += out.length;
    return out;
  }

  async receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const first = this.take(max);
    if (first.length > 0 || waitSeconds === 0) return first;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (result: ReceivedMessage[] | Error) => {
        this.waiters.delete(onWake);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const onWake = () => {
        const got = this.take(max);
        if (got.length > 0) done(got);
      };
      const onAbort = () => done(Object.assign(new Error('receive aborted'), { name: 'AbortError' }));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(onWake);
      timer = setTimeout(() => done([]), waitSeconds * 1000);
    });
  }

  async delete(receipt: string): Promise<void> {
    this.inFlight.delete(receipt);
  }

  async changeVisibility(receipt: string, seconds: number): Promise<void> {
    const message = this.inFlight.get(receipt);
    if (!message) return;
    if (seconds > 0) {
      message.visibleAt = Date.now() + seconds * 1000;
      return;
    }
    this.inFlight.delete(receipt);
    message.receipt = undefined;
    this.visible.set(message.messageId, message);
    this.wake();
  }

  async send(body: string, delaySeconds?: number): Promise<void> {
    const messageId = randomUUID();
    const message: StoredMessage = { messageId, body, receiveCount: 0, visibleAt: Date.now() + (delaySeconds ?? 0) * 1000, receipt: undefined };
    this.sent += 1;
    if (delaySeconds) this.delayed.add(message);
    else {
      this.visible.set(messageId, message);
      this.wake();
    }
  }

  async flush(): Promise<void> {}

  close(): void {
    clearInterval(this.timer);
  }
}

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** Payloads by key; bodies stored once per digest. Every read re-checks the digest, as S3PayloadStore does. */
export class FakePayloadStore implements PayloadStore {
  readonly verifiesDigest = true;
  private readonly keys = new Map<string, string>();
  private readonly bodies = new Map<string, Buffer>();

  /** Stores a body whose digest the caller already knows (bench submissions reuse a few contexts). */
  putKnown(key: string, digest: string, body: Buffer): PayloadRef {
    if (!this.bodies.has(digest)) this.bodies.set(digest, Buffer.from(body));
    this.keys.set(key, digest);
    return { key, sha256: digest, bytes: body.length };
  }

  async put(key: string, body: Buffer): Promise<PayloadRef> {
    const digest = sha256(body);
    if (!this.bodies.has(digest)) this.bodies.set(digest, Buffer.from(body));
    this.keys.set(key, digest);
    return { key, sha256: digest, bytes: body.length };
  }

  async get(ref: PayloadRef): Promise<Buffer> {
    const digest = this.keys.get(ref.key);
    const body = digest === undefined ? undefined : this.bodies.get(digest);
    if (!body) throw new PayloadIntegrityError(ref.key, ref.sha256, 'missing');
    const copyOf = Buffer.from(body);
    const actual = sha256(copyOf);
    if (actual !== ref.sha256) throw new PayloadIntegrityError(ref.key, ref.sha256, actual);
    return copyOf;
  }
}

export class FakeDeadLetterSink implements DeadLetterSink {
  readonly counts: Record<DeadLetterKind, number> = { transient: 0, permanent: 0 };

  async send(kind: DeadLetterKind): Promise<void> {
    this.counts[kind] += 1;
  }
}

/** The access log, counted and checked but not kept (the DynamoDB one writes one item per read). */
export class FakeAccessLog implements AccessLog {
  appended = 0;

  async append(record: AccessRecord): Promise<void> {
    checkAccessRecord(record);
    this.appended += 1;
  }

  async listForJob(): Promise<AccessEntry[]> {
    return [];
  }
}
