import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterKind, DeadLetterSink } from '../job-queue.ts';

/** Sends to the transient or the permanent dead-letter queue, the reason in message attributes. */
export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly urls: Record<DeadLetterKind, string>,
  ) {}

  async send(kind: DeadLetterKind, body: string, reason: { code: string; message: string }): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.urls[kind],
        MessageBody: body,
        MessageAttributes: {
          reason_code: { DataType: 'String', StringValue: reason.code },
          reason_message: { DataType: 'String', StringValue: reason.message.slice(0, 1000) || '-' },
        },
      }),
    );
  }
}
