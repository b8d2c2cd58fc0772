import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { WardenError } from '../../errors.ts';

export const ACCESS_TABLE_DEFAULT_NAME = 'warden-access';
/** Epoch-seconds TTL attribute of access entries. */
export const ACCESS_TTL_ATTRIBUTE = 'expires_at';

/** pk = job id, sk = `<ISO time>#<random>`: one partition per job, entries in time order. */
export function accessTableSchema(tableName: string = ACCESS_TABLE_DEFAULT_NAME): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  };
}

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? '';
}

/**
 * Creates the access-log table unless it exists, waits until it is ACTIVE, checks that an
 * existing one has the same key, and turns TTL on where the server supports it (dynalite does
 * not: that answer alone is ignored). Safe to run again and concurrently. In production grant
 * the runtime only PutItem and Query on this table: no UpdateItem, no DeleteItem.
 */
export async function ensureAccessTable(ddb: DynamoDBClient, tableName: string = ACCESS_TABLE_DEFAULT_NAME, timeoutMs = 300_000): Promise<void> {
  const schema = accessTableSchema(tableName);
  try {
    await ddb.send(new CreateTableCommand(schema));
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') {
      const keyOf = (keys: { AttributeName?: string; KeyType?: string }[] | undefined) => (keys ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
      if (keyOf(Table.KeySchema) !== keyOf(schema.KeySchema)) {
        throw new WardenError('table_schema_mismatch', `table ${tableName} exists with key ${keyOf(Table.KeySchema)}, expected ${keyOf(schema.KeySchema)}`);
      }
      break;
    }
    if (Date.now() + delayMs > deadline) {
      throw new WardenError('table_not_active', `table ${tableName} not ACTIVE after ${timeoutMs} ms (status ${Table?.TableStatus})`, { retryable: true });
    }
    await sleep(delayMs);
  }
  const { TimeToLiveDescription: ttl } = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if ((ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING') && ttl.AttributeName === ACCESS_TTL_ATTRIBUTE) return;
  try {
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: ACCESS_TTL_ATTRIBUTE } }));
  } catch (error) {
    if (!/UnknownOperation/i.test(errorName(error))) throw error;
  }
}
