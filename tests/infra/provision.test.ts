import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeTableCommand, DescribeTimeToLiveCommand, type GlobalSecondaryIndexDescription } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { makeAwsClients, type AwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { startDynaliteServer, type DynaliteServer } from '../../src/stack/infra/dynalite-server.ts';
import { startFauxqsServer, type FauxqsServer } from '../../src/stack/infra/fauxqs-server.ts';
import { provisionResources } from '../../src/stack/infra/provision.ts';
import { ensureTable, ensureTimeToLive, fencesTableSchema, jobsTableSchema } from '../../src/stack/infra/provision-tables.ts';

describe('provisionResources', () => {
  let dynalite: DynaliteServer;
  let fauxqs: FauxqsServer;
  let clients: AwsClients;

  before(async () => {
    [dynalite, fauxqs] = await Promise.all([startDynaliteServer(), startFauxqsServer()]);
    clients = makeAwsClients({
      region: 'us-east-1',
      endpoints: { dynamodb: dynalite.endpoint, sqs: fauxqs.endpoint, s3: fauxqs.endpoint },
    });
  });

  after(async () => {
    clients?.destroy();
    await Promise.all([dynalite?.stop(), fauxqs?.stop()]);
  });

  async function queueAttributes(queueUrl: string): Promise<Record<string, string>> {
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    return Attributes ?? {};
  }

  it('creates everything once, and again (also concurrently) without change', async () => {
    const names = { partitions: 3 };
    const first = await provisionResources(clients, names);
    const [second, third] = await Promise.all([provisionResources(clients, names), provisionResources(clients, names)]);
    assert.deepEqual(second, first);
    assert.deepEqual(third, first);
    assert.deepEqual(first.partitions.map((url) => url.split('/').pop()), ['warden-p0', 'warden-p1', 'warden-p2']);
    assert.ok(first.dlqTransient.endsWith('/warden-pdlq-transient'));
    assert.ok(first.dlqPermanent.endsWith('/warden-pdlq-permanent'));

    const { Table: jobs } = await clients.ddb.send(new DescribeTableCommand({ TableName: 'warden-jobs' }));
    assert.equal(jobs?.TableStatus, 'ACTIVE');
    assert.equal(jobs?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(jobs?.KeySchema, [{ AttributeName: 'pk', KeyType: 'HASH' }]);
    const indexes: Record<string, GlobalSecondaryIndexDescription> = Object.fromEntries(
      (jobs?.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName ?? '', index]),
    );
    assert.deepEqual(indexes.by_partition?.KeySchema?.map((k) => k.AttributeName), ['gsi_partition', 'updated_at']);
    assert.deepEqual(indexes.by_tenant?.KeySchema?.map((k) => k.AttributeName), ['tenant', 'created_at']);
    assert.equal(indexes.by_partition?.Projection?.ProjectionType, 'ALL');
    assert.equal(indexes.by_partition?.IndexStatus, 'ACTIVE');
    const { Table: fences } = await clients.ddb.send(new DescribeTableCommand({ TableName: 'warden-fences' }));
    assert.equal(fences?.TableStatus, 'ACTIVE');
    await clients.s3.send(new HeadBucketCommand({ Bucket: 'warden-payloads' }));

    const dlqArn = (await queueAttributes(first.dlqPermanent)).QueueArn;
    for (const url of first.partitions) {
      const attributes = await queueAttributes(url);
      assert.equal(attributes.VisibilityTimeout, '20');
      assert.equal(attributes.ReceiveMessageWaitTimeSeconds, '20');
      assert.deepEqual(JSON.parse(attributes.RedrivePolicy ?? '{}'), { deadLetterTargetArn: dlqArn, maxReceiveCount: 10 });
    }
    assert.equal((await queueAttributes(first.dlqTransient)).MessageRetentionPeriod, '1209600');
  });

  it('converges existing queues to changed settings instead of failing', async () => {
    const names = { partitions: 1, queuePrefix: 'conv-' };
    const before = await provisionResources(clients, names);
    const after = await provisionResources(clients, { ...names, visibilityTimeoutS: 45, maxReceiveCount: 4 });
    assert.deepEqual(after, before);
    const attributes = await queueAttributes(after.partitions[0] ?? '');
    assert.equal(attributes.VisibilityTimeout, '45');
    assert.equal(JSON.parse(attributes.RedrivePolicy ?? '{}').maxReceiveCount, 4);
  });

  it('gives partition queues a working redrive to the permanent DLQ', async () => {
    const queues = await provisionResources(clients, { partitions: 1, queuePrefix: 'rd-', maxReceiveCount: 1, visibilityTimeoutS: 0 });
    const partition = queues.partitions[0] ?? '';
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: partition, MessageBody: 'poison' }));
    const receive = async (url: string) =>
      (await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }))).Messages ?? [];
    assert.equal((await receive(partition)).length, 1);
    assert.deepEqual(await receive(partition), []);
    assert.deepEqual((await receive(queues.dlqPermanent)).map((m) => m.Body), ['poison']);
    assert.deepEqual(await receive(queues.dlqTransient), []);
  });

  it('reports that dynalite cannot turn on TTL, and leaves it off', async () => {
    assert.equal(await ensureTimeToLive(clients.ddb, 'warden-jobs', 'expires_at'), false);
    const { TimeToLiveDescription } = await clients.ddb.send(new DescribeTimeToLiveCommand({ TableName: 'warden-jobs' }));
    assert.equal(TimeToLiveDescription?.TimeToLiveStatus, 'DISABLED');
  });

  it('refuses an existing table with another schema', async () => {
    await ensureTable(clients.ddb, fencesTableSchema('odd-jobs'));
    await assert.rejects(ensureTable(clients.ddb, jobsTableSchema('odd-jobs')), {
      code: 'table_schema_mismatch',
      message: /odd-jobs .*index by_partition is missing/,
    });
  });

  it('validates names, naming the field', async () => {
    await assert.rejects(provisionResources(clients, { partitions: 0 }), /names\.partitions/);
    await assert.rejects(provisionResources(clients, { partitions: 1, bucket: 'Bad_Bucket' }), /names\.bucket/);
    await assert.rejects(provisionResources(clients, { partitions: 1, queuePrefix: 'a b' }), /names\.queuePrefix/);
    await assert.rejects(provisionResources(clients, { partitions: 1, jobsTable: 'x' }), /names\.jobsTable/);
    await assert.rejects(provisionResources(clients, { partitions: 1, visibilityTimeoutS: -1 }), /names\.visibilityTimeoutS/);
  });
});
