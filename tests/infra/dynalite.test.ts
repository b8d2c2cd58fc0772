import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { makeAwsClients, type AwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { startDynaliteServer, type DynaliteServer } from '../../src/stack/infra/dynalite-server.ts';
import { ensureTable, jobsTableSchema, JOBS_GSI_BY_PARTITION, JOBS_GSI_BY_TENANT } from '../../src/stack/infra/provision-tables.ts';

const TABLE = 'warden-jobs';

describe('dynalite (in-process)', () => {
  let server: DynaliteServer;
  let clients: AwsClients;

  before(async () => {
    server = await startDynaliteServer();
    clients = makeAwsClients({ region: 'us-east-1', endpoints: { dynamodb: server.endpoint } });
    await ensureTable(clients.ddb, jobsTableSchema(TABLE));
  });

  after(async () => {
    clients?.destroy();
    await server?.stop();
  });

  it('listens on 127.0.0.1 on a free port', () => {
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.mode, 'in-process');
  });

  it('refuses a second PutItem with attribute_not_exists(pk)', async () => {
    const put = (payload: string) =>
      clients.doc.send(new PutCommand({
        TableName: TABLE,
        Item: { pk: 'job#dup', state: 'queued', payload },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
    await put('first');
    await assert.rejects(put('second'), ConditionalCheckFailedException);
    const { Item } = await clients.doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'job#dup' }, ConsistentRead: true }));
    assert.equal(Item?.payload, 'first');
  });

  it('applies a conditional UpdateItem only when state and fencing token allow it', async () => {
    await clients.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'job#cond', state: 'queued', fence: 3 } }));
    const transition = (from: string, to: string, token: number) =>
      clients.doc.send(new UpdateCommand({
        TableName: TABLE,
        Key: { pk: 'job#cond' },
        UpdateExpression: 'SET #s = :to, fence = :token, audit = list_append(if_not_exists(audit, :none), :entry)',
        ConditionExpression: '#s = :from AND fence <= :token',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':from': from, ':to': to, ':token': token, ':none': [], ':entry': [{ to, token }] },
        ReturnValues: 'ALL_NEW',
      }));
    const { Attributes } = await transition('queued', 'leased', 4);
    assert.equal(Attributes?.state, 'leased');
    assert.deepEqual(Attributes?.audit, [{ to: 'leased', token: 4 }]);
    // Stale token (a paused former owner) and wrong expected state are both refused.
    await assert.rejects(transition('leased', 'running', 3), ConditionalCheckFailedException);
    await assert.rejects(transition('queued', 'leased', 5), ConditionalCheckFailedException);
    const { Attributes: next } = await transition('leased', 'running', 5);
    assert.equal(next?.state, 'running');
    assert.equal(next?.audit.length, 2);
  });

  it('answers GSI queries by the new key after an update moves the item', async () => {
    await clients.doc.send(new PutCommand({
      TableName: TABLE,
      Item: { pk: 'job#gsi', gsi_partition: 'p1#queued', updated_at: '2024-01-01T00:00:00.000Z', tenant: 't1', created_at: '2024-01-01T00:00:00.000Z' },
    }));
    await clients.doc.send(new UpdateCommand({
      TableName: TABLE,
      Key: { pk: 'job#gsi' },
      UpdateExpression: 'SET gsi_partition = :p, updated_at = :u',
      ExpressionAttributeValues: { ':p': 'p2#running', ':u': '2024-01-01T00:00:05.000Z' },
    }));
    const byPartition = (partition: string) =>
      clients.doc.send(new QueryCommand({
        TableName: TABLE,
        IndexName: JOBS_GSI_BY_PARTITION,
        KeyConditionExpression: 'gsi_partition = :p AND updated_at >= :since',
        ExpressionAttributeValues: { ':p': partition, ':since': '2024-01-01T00:00:00.000Z' },
      }));
    assert.deepEqual((await byPartition('p1#queued')).Items, []);
    const moved = await byPartition('p2#running');
    assert.deepEqual(moved.Items?.map((item) => item.pk), ['job#gsi']);
    const byTenant = await clients.doc.send(new QueryCommand({
      TableName: TABLE,
      IndexName: JOBS_GSI_BY_TENANT,
      KeyConditionExpression: 'tenant = :t',
      ExpressionAttributeValues: { ':t': 't1' },
    }));
    assert.equal(byTenant.Items?.[0]?.gsi_partition, 'p2#running');
  });

  it('ignores ReturnValuesOnConditionCheckFailure (documents a gap: read the item after a refusal)', async () => {
    await clients.doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'job#rv', state: 'succeeded' } }));
    const refused = await clients.doc.send(new UpdateCommand({
      TableName: TABLE,
      Key: { pk: 'job#rv' },
      UpdateExpression: 'SET #s = :to',
      ConditionExpression: '#s = :from',
      ExpressionAttributeNames: { '#s': 'state' },
      ExpressionAttributeValues: { ':from': 'running', ':to': 'failed' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    })).then(() => undefined, (error: unknown) => error);
    assert.ok(refused instanceof ConditionalCheckFailedException);
    // Real DynamoDB returns the current item here; dynalite 4.0.0 does not.
    assert.equal(refused.Item, undefined);
  });

  it('has no TransactWriteItems (documents a gap: design for single-item conditional writes)', async () => {
    await assert.rejects(
      clients.doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: TABLE, Item: { pk: 'job#tx' } } }] })),
      { name: 'UnknownOperationException' },
    );
  });
});
