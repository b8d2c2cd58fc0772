import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { makeAwsClients, type AwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { startFauxqsServer, type FauxqsServer } from '../../src/stack/infra/fauxqs-server.ts';

describe('fauxqs (in-process)', () => {
  let server: FauxqsServer;
  let clients: AwsClients;

  before(async () => {
    server = await startFauxqsServer();
    clients = makeAwsClients({ region: 'us-east-1', endpoints: { sqs: server.endpoint, s3: server.endpoint } });
  });

  after(async () => {
    clients?.destroy();
    await server?.stop();
  });

  async function freshQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    assert.ok(QueueUrl);
    return QueueUrl;
  }

  async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }));
    return { visible: Number(Attributes?.ApproximateNumberOfMessages), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
  }

  it('gives queue URLs on 127.0.0.1 that the SDK can call', async () => {
    const url = await freshQueue('urls');
    assert.equal(url, `${server.endpoint}/000000000000/urls`);
  });

  it('sends, receives and deletes a message with attributes', async () => {
    const queueUrl = await freshQueue('basic');
    await clients.sqs.send(new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: '{"job":"j1"}',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'interactive' } },
    }));
    const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }));
    assert.equal(Messages?.length, 1);
    const [message] = Messages ?? [];
    assert.equal(message?.Body, '{"job":"j1"}');
    assert.equal(message?.MessageAttributes?.kind?.StringValue, 'interactive');
    assert.equal(message?.Attributes?.ApproximateReceiveCount, '1');
    assert.deepEqual(await counts(queueUrl), { visible: 0, inFlight: 1 });
    await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }));
    assert.deepEqual(await counts(queueUrl), { visible: 0, inFlight: 0 });
  });

  it('changes visibility and deletes in batches, reporting bad receipt handles per entry', async () => {
    const queueUrl = await freshQueue('batches', { VisibilityTimeout: '30' });
    await clients.sqs.send(new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [0, 1, 2].map((i) => ({ Id: `m${i}`, MessageBody: `body-${i}` })),
    }));
    const first = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    assert.equal(first.Messages?.length, 3);
    const handles = (first.Messages ?? []).map((m) => m.ReceiptHandle ?? '');
    // Heartbeat two, release one (visibility 0), and one bogus handle that must fail alone.
    const changed = await clients.sqs.send(new ChangeMessageVisibilityBatchCommand({
      QueueUrl: queueUrl,
      Entries: [
        { Id: 'keep0', ReceiptHandle: handles[0], VisibilityTimeout: 60 },
        { Id: 'keep1', ReceiptHandle: handles[1], VisibilityTimeout: 60 },
        { Id: 'release2', ReceiptHandle: handles[2], VisibilityTimeout: 0 },
        { Id: 'bogus', ReceiptHandle: 'not-a-handle', VisibilityTimeout: 60 },
      ],
    }));
    assert.deepEqual(changed.Successful?.map((s) => s.Id).sort(), ['keep0', 'keep1', 'release2']);
    assert.deepEqual(changed.Failed?.map((f) => [f.Id, f.Code]), [['bogus', 'ReceiptHandleIsInvalid']]);
    const again = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    assert.deepEqual(again.Messages?.map((m) => m.Body), ['body-2']);

    const deleted = await clients.sqs.send(new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [
        { Id: 'd0', ReceiptHandle: handles[0] },
        { Id: 'd1', ReceiptHandle: handles[1] },
        { Id: 'd2', ReceiptHandle: again.Messages?.[0]?.ReceiptHandle },
      ],
    }));
    assert.equal(deleted.Successful?.length, 3);
    assert.deepEqual(deleted.Failed ?? [], []);
    assert.deepEqual(await counts(queueUrl), { visible: 0, inFlight: 0 });
  });

  it('returns a long poll as soon as a message arrives', async () => {
    const queueUrl = await freshQueue('long-poll', { ReceiveMessageWaitTimeSeconds: '20' });
    const started = Date.now();
    const polling = clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 10 }));
    setTimeout(() => void clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'wake' })), 300);
    const { Messages } = await polling;
    const waitedMs = Date.now() - started;
    assert.equal(Messages?.[0]?.Body, 'wake');
    assert.ok(waitedMs >= 250 && waitedMs < 3_000, `long poll returned after ${waitedMs} ms`);
  });

  it('redrives to the DLQ on the receive after maxReceiveCount receives', async () => {
    const dlqUrl = await freshQueue('redrive-dlq');
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    const queueUrl = await freshQueue('redrive-source', {
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: 2 }),
    });
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    const receive = async (url: string) =>
      (await clients.sqs.send(new ReceiveMessageCommand({
        QueueUrl: url,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }))).Messages ?? [];
    assert.equal((await receive(queueUrl))[0]?.Attributes?.ApproximateReceiveCount, '1');
    assert.equal((await receive(queueUrl))[0]?.Attributes?.ApproximateReceiveCount, '2');
    // The third receive finds the count exhausted: the message moves instead of being returned.
    assert.deepEqual(await receive(queueUrl), []);
    const dead = await receive(dlqUrl);
    assert.equal(dead[0]?.Body, 'poison');
    // fauxqs counts the refused third receive too and keeps the count on the moved message.
    assert.equal(dead[0]?.Attributes?.ApproximateReceiveCount, '4');
  });

  it('stores S3 objects with metadata (path-style)', async () => {
    const { s3 } = clients;
    await s3.send(new CreateBucketCommand({ Bucket: 'payloads' }));
    const body = JSON.stringify({ prompt: 'x'.repeat(64 * 1024) });
    await s3.send(new PutObjectCommand({
      Bucket: 'payloads',
      Key: 'jobs/j1/request.json',
      Body: body,
      ContentType: 'application/json',
      Metadata: { 'sha256': 'abc123', 'job-id': 'j1' },
    }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'payloads', Key: 'jobs/j1/request.json' }));
    assert.equal(await got.Body?.transformToString(), body);
    assert.equal(got.ContentType, 'application/json');
    assert.deepEqual(got.Metadata, { 'sha256': 'abc123', 'job-id': 'j1' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'payloads', Key: 'jobs/j1/request.json' }));
    assert.equal(head.ContentLength, Buffer.byteLength(body));
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'payloads', Key: 'missing' })), { name: 'NoSuchKey' });
  });
});
