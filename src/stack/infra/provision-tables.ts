import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { WardenError } from '../../errors.ts';

/** GSI names the job store queries by; kept here with the schema that defines them. */
export const JOBS_GSI_BY_PARTITION = 'by_partition';
export const JOBS_GSI_BY_TENANT = 'by_tenant';
/** Epoch-seconds attribute DynamoDB TTL deletes expired job items by (180-day retention). */
export const JOBS_TTL_ATTRIBUTE = 'expires_at';

export function jobsTableSchema(tableName: string): CreateTableCommandInput {
  const allProjected = { ProjectionType: 'ALL' as const };
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'gsi_partition', AttributeType: 'S' },
      { AttributeName: 'updated_at', AttributeType: 'S' },
      { AttributeName: 'tenant', AttributeType: 'S' },
      { AttributeName: 'created_at', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: JOBS_GSI_BY_PARTITION,
        KeySchema: [
          { AttributeName: 'gsi_partition', KeyType: 'HASH' },
          { AttributeName: 'updated_at', KeyType: 'RANGE' },
        ],
        Projection: allProjected,
      },
      {
        IndexName: JOBS_GSI_BY_TENANT,
        KeySchema: [
          { AttributeName: 'tenant', KeyType: 'HASH' },
          { AttributeName: 'created_at', KeyType: 'RANGE' },
        ],
        Projection: allProjected,
      },
    ],
  };
}

export function fencesTableSchema(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  };
}

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? '';
}

/**
 * An existing table is accepted only if it has the key and indexes we would have created: quietly
 * running against a table with another schema would fail later, far from the cause. It is never
 * altered: changing a production table is a migration, not a provisioning step.
 */
function checkExistingSchema(schema: CreateTableCommandInput, table: TableDescription): void {
  const keyOf = (keys: { AttributeName?: string; KeyType?: string }[] | undefined): string =>
    (keys ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const problems: string[] = [];
  if (keyOf(table.KeySchema) !== keyOf(schema.KeySchema)) problems.push(`key is ${keyOf(table.KeySchema)}, expected ${keyOf(schema.KeySchema)}`);
  for (const wanted of schema.GlobalSecondaryIndexes ?? []) {
    const found = table.GlobalSecondaryIndexes?.find((index) => index.IndexName === wanted.IndexName);
    if (found === undefined) problems.push(`index ${wanted.IndexName} is missing`);
    else if (keyOf(found.KeySchema) !== keyOf(wanted.KeySchema)) problems.push(`index ${wanted.IndexName} key is ${keyOf(found.KeySchema)}`);
  }
  if (problems.length > 0) {
    throw new WardenError('table_schema_mismatch', `table ${schema.TableName} exists with another schema: ${problems.join('; ')}`);
  }
}

/** Polls until the table and all its indexes are ACTIVE (locally at once; on AWS in seconds). */
async function waitActive(ddb: DynamoDBClient, tableName: string, timeoutMs: number): Promise<TableDescription> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return Table;
    if (Date.now() + delayMs > deadline) {
      throw new WardenError('table_not_active', `table ${tableName} not ACTIVE after ${timeoutMs} ms (status ${Table?.TableStatus})`, { retryable: true });
    }
    await sleep(delayMs);
  }
}

/** Creates the table unless it exists, then waits for ACTIVE and checks the schema. */
export async function ensureTable(ddb: DynamoDBClient, schema: CreateTableCommandInput, timeoutMs = 300_000): Promise<void> {
  const tableName = schema.TableName ?? '';
  try {
    await ddb.send(new CreateTableCommand(schema));
  } catch (error) {
    // Exists already (a second provisioning, or a concurrent one on another instance).
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  checkExistingSchema(schema, await waitActive(ddb, tableName, timeoutMs));
}

/**
 * Turns on TTL for `attribute`. Skipped when already on, because AWS refuses a repeated
 * UpdateTimeToLive ("TimeToLive is already enabled"). dynalite 4 knows DescribeTimeToLive (always
 * DISABLED) but not UpdateTimeToLive; that "unknown operation" answer, and only that, is ignored.
 * Returns whether the server took the setting.
 */
export async function ensureTimeToLive(ddb: DynamoDBClient, tableName: string, attribute: string): Promise<boolean> {
  const { TimeToLiveDescription: current } = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = current?.TimeToLiveStatus;
  if ((status === 'ENABLED' || status === 'ENABLING') && current?.AttributeName === attribute) return true;
  try {
    await ddb.send(new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: attribute },
    }));
    return true;
  } catch (error) {
    if (/UnknownOperation/i.test(errorName(error))) return false;
    throw error;
  }
}
