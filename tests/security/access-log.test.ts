import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { isWardenError } from '../../src/errors.ts';
import { ACCESS_PURPOSES, type AccessLog } from '../../src/runtime/access-log/access-log.ts';
import { ACCESS_TABLE_DEFAULT_NAME, ensureAccessTable } from '../../src/runtime/access-log/access-table.ts';
import { DynamoAccessLog } from '../../src/runtime/access-log/dynamo-access-log.ts';
import { MemoryAccessLog } from '../../src/runtime/access-log/memory-access-log.ts';
import { makeAwsClients, type AwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { startDynaliteServer, type DynaliteServer } from '../../src/stack/infra/dynalite-server.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

let dynalite: DynaliteServer;
let aws: AwsClients;
let log: DynamoAccessLog;

before(async () => {
  dynalite = await startDynaliteServer();
  aws = makeAwsClients({ region: 'us-east-1', endpoints: { dynamodb: dynalite.endpoint } });
  await ensureAccessTable(aws.ddb);
  log = new DynamoAccessLog(aws.doc, ACCESS_TABLE_DEFAULT_NAME);
});
after(async () => {
  aws?.destroy();
  await dynalite?.stop();
});

const job = (n: number) => n.toString(16).padStart(64, '0');

function behavesAsAnAccessLog(name: string, make: () => AccessLog) {
  describe(`${name}: the AccessLog contract`, () => {
    it('lists a job\'s entries oldest first, whatever the append order, and only that job\'s', async () => {
      const access = make();
      const id = job(Math.floor(Math.random() * 1e9));
      const times = ['2025-03-01T10:00:02.000Z', '2025-03-01T10:00:00.000Z', '2025-03-01T10:00:01.500Z'];
      for (const [i, at] of times.entries()) {
        await access.append({ who: `worker:w${i}`, tenant: 'appA', jobId: id, purpose: ACCESS_PURPOSES[i % 4]!, at });
      }
      await access.append({ who: 'api-key:k1', tenant: 'appB', jobId: job(1), purpose: 'api_result', at: new Date('2025-03-01T10:00:00.500Z') });
      const entries = await access.listForJob(id);
      assert.deepEqual(entries.map((e) => e.at), [...times].sort());
      assert.deepEqual(entries[0], { who: 'worker:w1', tenant: 'appA', jobId: id, purpose: 'api_result', at: '2025-03-01T10:00:00.000Z' });
      assert.equal((await access.listForJob(job(1))).length, 1);
      assert.deepEqual(await access.listForJob(job(999_999_999)), []);
      assert.equal((await access.listForJob(id, { limit: 2 })).length, 2);
    });

    it('keeps every entry of reads in the same millisecond (append-only, nothing overwritten)', async () => {
      const access = make();
      const id = job(Math.floor(Math.random() * 1e9));
      const at = new Date('2025-04-01T00:00:00.000Z');
      await Promise.all(Array.from({ length: 25 }, (_, i) => access.append({ who: `worker:${i}`, tenant: 't', jobId: id, purpose: 'render_prompt', at })));
      const entries = await access.listForJob(id);
      assert.equal(entries.length, 25);
      assert.equal(new Set(entries.map((e) => e.who)).size, 25);
    });

    it('refuses malformed entries, naming the field', async () => {
      const access = make();
      const good = { who: 'w', tenant: 't', jobId: job(2), purpose: 'api_result' as const, at: new Date() };
      for (const [field, bad] of [
        ['purpose', { ...good, purpose: 'peek' }],
        ['who', { ...good, who: '' }],
        ['tenant', { ...good, tenant: 'x'.repeat(300) }],
        ['at', { ...good, at: 'yesterday' }],
        ['jobId', { ...good, jobId: undefined }],
      ] as const) {
        await assert.rejects(access.append(bad as never), (e: unknown) => isWardenError(e) && e.code === 'invalid_access_entry' && e.message.includes(field));
      }
      await assert.rejects(access.listForJob(''), (e: unknown) => isWardenError(e));
    });
  });
}

behavesAsAnAccessLog('DynamoAccessLog (dynalite)', () => log);
behavesAsAnAccessLog('MemoryAccessLog', () => new MemoryAccessLog());

describe('DynamoAccessLog table', () => {
  it('ensureAccessTable is idempotent and builds pk/sk', async () => {
    await ensureAccessTable(aws.ddb);
    const { Table } = await aws.ddb.send(new DescribeTableCommand({ TableName: ACCESS_TABLE_DEFAULT_NAME }));
    assert.deepEqual(Table?.KeySchema?.map((k) => `${k.AttributeName}:${k.KeyType}`), ['pk:HASH', 'sk:RANGE']);
  });

  it('refuses a table of the same name with another key', async () => {
    const { CreateTableCommand } = await import('@aws-sdk/client-dynamodb');
    await aws.ddb.send(new CreateTableCommand({
      TableName: 'warden-access-wrong',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }));
    await assert.rejects(ensureAccessTable(aws.ddb, 'warden-access-wrong'), (e: unknown) => isWardenError(e) && e.code === 'table_schema_mismatch');
  });

  it('stores sk = <iso>#<random>, a TTL, and never overwrites an entry with the same key', async () => {
    const id = job(77);
    await log.append({ who: 'operator:ana', tenant: 'appZ', jobId: id, purpose: 'operator_inspect', at: '2025-05-05T05:05:05.005Z' });
    const { Items } = await aws.doc.send(new ScanCommand({ TableName: ACCESS_TABLE_DEFAULT_NAME, FilterExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': id } }));
    assert.equal(Items?.length, 1);
    const item = Items![0]!;
    assert.match(item['sk'], /^2025-05-05T05:05:05\.005Z#[0-9a-f]{16}$/);
    assert.equal(item['expires_at'], Math.floor(Date.parse('2025-05-05T05:05:05.005Z') / 1000) + 180 * 86400);
    // The same condition the adapter uses refuses a second write of that key.
    await assert.rejects(
      aws.doc.send(new PutCommand({ TableName: ACCESS_TABLE_DEFAULT_NAME, Item: { ...item, who: 'forger' }, ConditionExpression: 'attribute_not_exists(sk)' })),
      (e: any) => e.name === 'ConditionalCheckFailedException',
    );
    assert.equal((await log.listForJob(id))[0]?.who, 'operator:ana');
    // The adapter offers no way to change or remove an entry.
    const surface = Object.getOwnPropertyNames(DynamoAccessLog.prototype).filter((n) => n !== 'constructor').sort();
    assert.deepEqual(surface, ['append', 'listForJob']);
  });

  it('lists many entries in time order, not append order', async () => {
    const id = job(88);
    const base = Date.parse('2025-06-01T00:00:00.000Z');
    for (let i = 0; i < 30; i += 1) {
      await log.append({ who: `w${i}`, tenant: 't', jobId: id, purpose: 'write_back', at: new Date(base + (29 - i) * 1000) });
    }
    const entries = await log.listForJob(id);
    assert.equal(entries.length, 30);
    assert.ok(entries.every((e, i) => i === 0 || entries[i - 1]!.at <= e.at));
    assert.equal(entries[0]?.who, 'w29');
  });
});
