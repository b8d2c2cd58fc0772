import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { WardenError } from '../../errors.ts';
import { checkAccessRecord, checkJobId, checkListLimit, type AccessEntry, type AccessLog, type AccessPurpose, type AccessRecord } from './access-log.ts';

export interface DynamoAccessLogOptions {
  /** Days an entry is kept (TTL attribute `expires_at`). Default 180, the job history's retention. */
  retentionDays?: number;
}

interface AccessItem {
  pk: string;
  sk: string;
  who: string;
  tenant: string;
  purpose: AccessPurpose;
  at: string;
  expires_at: number;
}

/**
 * AccessLog on its own DynamoDB table (`ensureAccessTable`): one PutItem per read, conditional on
 * `attribute_not_exists(sk)` so an entry is never overwritten, and one Query per listing. The
 * adapter has no update and no delete; the table's IAM policy should not either.
 */
export class DynamoAccessLog implements AccessLog {
  private readonly retentionS: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoAccessLogOptions = {},
  ) {
    if (typeof table !== 'string' || table === '') throw new TypeError('DynamoAccessLog: table must be a non-empty string');
    const days = options.retentionDays ?? 180;
    if (!Number.isInteger(days) || days < 1) throw new TypeError('DynamoAccessLog: options.retentionDays must be a positive integer');
    this.retentionS = days * 86_400;
  }

  async append(record: AccessRecord, signal?: AbortSignal): Promise<void> {
    const entry = checkAccessRecord(record);
    // The random suffix keeps two reads in the same millisecond apart; a collision (2^-64) only
    // costs another try, never an overwrite.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const item: AccessItem = {
        pk: entry.jobId,
        sk: `${entry.at}#${randomBytes(8).toString('hex')}`,
        who: entry.who,
        tenant: entry.tenant,
        purpose: entry.purpose,
        at: entry.at,
        expires_at: Math.floor(Date.parse(entry.at) / 1000) + this.retentionS,
      };
      try {
        await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(sk)' }), { abortSignal: signal });
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new WardenError('access_log_conflict', `could not append an access entry for job ${entry.jobId}`, { retryable: true });
  }

  async listForJob(jobId: string, options: { limit?: number; signal?: AbortSignal } = {}): Promise<AccessEntry[]> {
    checkJobId(jobId);
    const limit = checkListLimit(options.limit);
    const entries: AccessEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': jobId },
          ScanIndexForward: true,
          ConsistentRead: true,
          Limit: Math.min(1000, limit - entries.length),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
        { abortSignal: options.signal },
      );
      for (const raw of out.Items ?? []) {
        const item = raw as AccessItem;
        entries.push({ who: item.who, tenant: item.tenant, jobId: item.pk, purpose: item.purpose, at: item.at });
      }
      start = out.LastEvaluatedKey;
    } while (start && entries.length < limit);
    return entries;
  }
}
