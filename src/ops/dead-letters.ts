import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { OwnershipLostError } from '../errors.ts';
import { parseJobMessage, type JobMessage } from '../jobs/job-message.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import type { CheckpointStore } from '../runtime/checkpoint-store.ts';
import type { DeadLetterKind, PartitionQueue } from '../runtime/job-queue.ts';

export interface DeadLetter {
  receipt: string;
  body: string;
  reason: { code: string; message: string };
  message: JobMessage | undefined;
  receiveCount: number;
}

export interface DeadLetterDeps {
  sqs: SQSClient;
  urls: Record<DeadLetterKind, string>;
  checkpoints: CheckpointStore;
  queueFor: (partition: number) => PartitionQueue;
  actor: string;
}

/** Reads up to `max` dead letters; they stay in the queue (visible again after `holdS`). */
export async function readDeadLetters(deps: DeadLetterDeps, kind: DeadLetterKind, max: number, holdS = 0): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  const seen = new Set<string>();
  while (letters.length < max) {
    const out = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deps.urls[kind],
        MaxNumberOfMessages: Math.min(10, max - letters.length),
        VisibilityTimeout: holdS,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const batch = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (batch.length === 0) break;
    for (const m of batch) {
      seen.add(m.MessageId as string);
      let message: JobMessage | undefined;
      try {
        message = parseJobMessage(m.Body ?? '');
      } catch {
        message = undefined;
      }
      letters.push({
        receipt: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        reason: {
          code: m.MessageAttributes?.['reason_code']?.StringValue ?? 'unknown',
          message: m.MessageAttributes?.['reason_message']?.StringValue ?? '',
        },
        message,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      });
    }
  }
  return letters;
}

export type RedriveOutcome = 'redriven' | 'already_active' | 'not_redrivable' | 'unreadable' | 'missing_job';

/**
 * Sends one dead-lettered job round again, exactly once: the conditional `redrive` transition
 * (dead_lettered or failed → queued) lets one redriver win; the winner enqueues a fresh message;
 * only then is the dead letter deleted. A redrive interrupted between those steps is finished
 * by the next run (a job just redriven but perhaps never enqueued is enqueued again: a second
 * message for a queued job is harmless). A memoized LLM result survives the redrive, so a job
 * that died in write-back is written back without paying again.
 */
export async function redriveOne(deps: DeadLetterDeps, kind: DeadLetterKind, letter: DeadLetter): Promise<RedriveOutcome> {
  if (!letter.message) return 'unreadable';
  const job = await deps.checkpoints.get(letter.message.job_id);
  if (!job) return 'missing_job';
  let outcome: RedriveOutcome;
  if (job.state === 'dead_lettered' || job.state === 'failed') {
    try {
      const queued = await deps.checkpoints.transition(job.id, {
        event: 'redrive',
        from: job.state,
        writer: { actor: deps.actor },
        reason: `redriven from the ${kind} dead-letter queue`,
        partition: job.partition,
        patch: { attempts: 0, next_attempt_at: null, error: null },
      });
      await enqueue(deps, queued);
      outcome = 'redriven';
    } catch (error) {
      if (!(error instanceof OwnershipLostError)) throw error;
      outcome = 'already_active';
    }
  } else if (job.state === 'queued' && job.audit.at(-1)?.event === 'redrive') {
    await enqueue(deps, job);
    outcome = 'redriven';
  } else {
    outcome = job.state === 'queued' || job.state === 'leased' || job.state === 'running' || job.state === 'generated' ? 'already_active' : 'not_redrivable';
  }
  // A dead letter of a job that has since finished is obsolete; a poison message stays for a person.
  await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.urls[kind], ReceiptHandle: letter.receipt }));
  return outcome;
}

async function enqueue(deps: DeadLetterDeps, job: JobRecord): Promise<void> {
  const message: JobMessage = { v: 1, job_id: job.id, trace_id: job.trace_id, ...(job.priority === 'bulk' ? { priority: 'bulk' as const } : {}) };
  await deps.queueFor(job.partition).send(JSON.stringify(message));
}
