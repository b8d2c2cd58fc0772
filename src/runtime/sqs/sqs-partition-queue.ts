import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { PartitionQueue, ReceivedMessage } from '../job-queue.ts';
import { Batcher } from './batcher.ts';

type Failure = { Id?: string; Message?: string; Code?: string };

function failuresOf(failed: Failure[] | undefined): Array<{ index: number; error: Error }> {
  return (failed ?? []).map((failure) => ({
    index: Number(failure.Id),
    error: new Error(`${failure.Code ?? 'SQS error'}: ${failure.Message ?? ''}`),
  }));
}

/** PartitionQueue on one SQS standard queue, with batched deletes and visibility changes. */
export class SqsPartitionQueue implements PartitionQueue {
  private readonly deletes: Batcher<string>;
  private readonly visibility: Batcher<{ receipt: string; seconds: number }>;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    lingerMs = 50,
  ) {
    this.deletes = new Batcher(async (receipts) => {
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: receipts.map((receipt, index) => ({ Id: String(index), ReceiptHandle: receipt })),
        }),
      );
      return failuresOf(out.Failed);
    }, 10, lingerMs);
    this.visibility = new Batcher(async (entries) => {
      const out = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries.map((entry, index) => ({
            Id: String(index),
            ReceiptHandle: entry.receipt,
            VisibilityTimeout: entry.seconds,
          })),
        }),
      );
      return failuresOf(out.Failed);
    }, 10, lingerMs);
  }

  async receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal: signal },
    );
    return (out.Messages ?? []).map((message) => ({
      messageId: message.MessageId ?? '',
      receipt: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
    }));
  }

  delete(receipt: string): Promise<void> {
    return this.deletes.add(receipt);
  }

  changeVisibility(receipt: string, seconds: number): Promise<void> {
    return this.visibility.add({ receipt, seconds });
  }

  async send(body: string, delaySeconds?: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        ...(delaySeconds ? { DelaySeconds: Math.min(900, Math.round(delaySeconds)) } : {}),
      }),
    );
  }

  async flush(): Promise<void> {
    await Promise.all([this.deletes.flush(), this.visibility.flush()]);
  }
}
