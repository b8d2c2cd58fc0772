import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueNameExists,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DLQ_PERMANENT_SUFFIX, DLQ_TRANSIENT_SUFFIX, type ResolvedResourceNames } from './resource-names.ts';

/** Queue URLs, the form every SQS call takes. */
export interface QueueUrls {
  /** Index p is the URL of partition queue p. */
  partitions: string[];
  /** Jobs the runtime gave up on after retryable failures (sent there by the runtime). */
  dlqTransient: string;
  /** Messages SQS redrove after maxReceiveCount receives, and jobs that can never succeed. */
  dlqPermanent: string;
}

/** 14 days, the SQS maximum: a dead letter keeps its original enqueue time, so give it the most. */
const DLQ_RETENTION_S = '1209600';
/** Receives long-poll by default; a poller that forgets WaitTimeSeconds still does not spin. */
const PARTITION_WAIT_S = '20';
/** Partition queues created at once; well under the SQS control-plane rate limits. */
const CREATE_CONCURRENCY = 8;

/**
 * AWS answers with query code "QueueAlreadyExists", which the SDK maps to QueueNameExists;
 * fauxqs 1.9.2 sends "AWS.SimpleQueueService.QueueNameExists", which the SDK cannot map and
 * surfaces as a generic error of that name. Accept both.
 */
function isQueueNameExists(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name ?? '';
  return error instanceof QueueNameExists || /(^|\.)Queue(Name|Already)Exists$/.test(name);
}

/**
 * Creates the queue, or converges an existing one to `attributes`: CreateQueue with different
 * attributes is refused (QueueNameExists, on AWS and fauxqs alike), so a changed visibility
 * timeout or maxReceiveCount in config must become a SetQueueAttributes, not a boot failure.
 */
async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (QueueUrl === undefined) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return QueueUrl;
  } catch (error) {
    if (!isQueueNameExists(error)) throw error;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (QueueUrl === undefined) throw new Error(`GetQueueUrl ${name} returned no QueueUrl`);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  }
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`GetQueueAttributes gave no QueueArn for ${queueUrl}`);
  return arn;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The two shared DLQs first (partition queues redrive to one by ARN), then the partitions. */
export async function ensureQueues(sqs: SQSClient, names: ResolvedResourceNames): Promise<QueueUrls> {
  const dlqAttributes = { MessageRetentionPeriod: DLQ_RETENTION_S };
  const [dlqTransient, dlqPermanent] = await Promise.all([
    ensureQueue(sqs, `${names.queuePrefix}${DLQ_TRANSIENT_SUFFIX}`, dlqAttributes),
    ensureQueue(sqs, `${names.queuePrefix}${DLQ_PERMANENT_SUFFIX}`, dlqAttributes),
  ]);
  const partitionAttributes = {
    VisibilityTimeout: String(names.visibilityTimeoutS),
    ReceiveMessageWaitTimeSeconds: PARTITION_WAIT_S,
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: await queueArn(sqs, dlqPermanent),
      maxReceiveCount: names.maxReceiveCount,
    }),
  };
  const indexes = Array.from({ length: names.partitions }, (_, p) => p);
  const partitions = await mapLimited(indexes, CREATE_CONCURRENCY, (p) =>
    ensureQueue(sqs, `${names.queuePrefix}${p}`, partitionAttributes),
  );
  return { partitions, dlqTransient, dlqPermanent };
}
