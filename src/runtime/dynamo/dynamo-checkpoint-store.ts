import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OwnershipLostError } from '../../errors.ts';
import { isTerminal } from '../../jobs/job-states.ts';
import type { AuditEntry, JobRecord } from '../../jobs/job-record.ts';
import { transition } from '../../jobs/transition-table.ts';
import type { Clock } from '../clock.ts';
import type { CheckpointStore, CreateOutcome, TenantJobPage, TenantJobQuery, TransitionRequest } from '../checkpoint-store.ts';

type Item = Omit<JobRecord, 'id'> & { pk: string; gsi_partition?: string };

function toItem(job: JobRecord): Item {
  const { id, ...rest } = job;
  return { pk: id, ...rest, ...(isTerminal(job.state) ? {} : { gsi_partition: String(job.partition) }) };
}

/** Query rounds one page may take when a state filter leaves most items out. */
const LIST_MAX_ROUNDS = 10;

/** The start key of a `by_tenant` query after this job: the table key plus the index key. */
function tenantIndexKey(job: JobRecord): Record<string, string> {
  return { pk: job.id, tenant: job.tenant, created_at: job.created_at };
}

function stringKey(key: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!key) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(key)) {
    if (typeof value !== 'string') throw new TypeError(`by_tenant key attribute ${name} is not a string`);
    out[name] = value;
  }
  return out;
}

function fromItem(item: Record<string, unknown>): JobRecord {
  const { pk, gsi_partition: _gsi, ...rest } = item as Item;
  return { id: pk, ...rest } as JobRecord;
}

/**
 * CheckpointStore on one DynamoDB table. Single-item conditional writes only (no transactions),
 * so the audit entry rides in the transition's own UpdateItem and the result memo too: one round
 * trip per transition, and no state in which a transition happened but its audit line did not.
 */
export class DynamoCheckpointStore implements CheckpointStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  async create(job: JobRecord): Promise<CreateOutcome> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: toItem(job), ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return { created: true, job };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(job.id);
      // A create refused by the condition but then missing means the item expired in between: retry.
      if (!existing) return this.create(job);
      return { created: false, job: existing };
    }
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: id }, ConsistentRead: true }));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async transition(id: string, request: TransitionRequest): Promise<JobRecord> {
    const { next } = transition(request.from, request.event);
    const now = this.clock.now().toISOString();
    const fenced = request.writer.token !== undefined;
    const entry: AuditEntry = {
      at: now,
      event: request.event,
      from: request.from,
      to: next,
      actor: request.writer.actor,
      token: request.writer.token ?? -1,
      ...(request.reason ? { reason: request.reason } : {}),
    };
    const names: Record<string, string> = { '#state': 'state', '#seq': 'seq', '#audit': 'audit', '#updated': 'updated_at' };
    const values: Record<string, unknown> = { ':from': request.from, ':next': next, ':one': 1, ':entry': [entry], ':now': now };
    const sets = ['#state = :next', '#seq = #seq + :one', '#updated = :now', '#audit = list_append(#audit, :entry)'];
    const removes: string[] = [];
    let condition = '#state = :from';
    if (fenced) {
      names['#token'] = 'token';
      names['#owner'] = 'owner';
      values[':token'] = request.writer.token;
      values[':owner'] = request.writer.actor;
      sets.push('#token = :token', '#owner = :owner');
      condition += ' AND #token <= :token';
    }
    for (const [field, value] of Object.entries(request.patch ?? {})) {
      names[`#f_${field}`] = field;
      if (value === null || value === undefined) {
        removes.push(`#f_${field}`);
      } else {
        values[`:f_${field}`] = value;
        sets.push(`#f_${field} = :f_${field}`);
      }
    }
    if (isTerminal(next)) {
      names['#gsi'] = 'gsi_partition';
      removes.push('#gsi');
      names['#finished'] = 'finished_at';
      sets.push('#finished = :now');
    } else if (isTerminal(request.from)) {
      // Re-entering the unfinished set (redrive): put the job back into its partition's index.
      if (request.partition === undefined) throw new TypeError(`transition '${request.event}' needs the job's partition`);
      names['#gsi'] = 'gsi_partition';
      sets.push('#gsi = :gsi');
      values[':gsi'] = String(request.partition);
    }
    const update = `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: id },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new OwnershipLostError(id, request.from, { event: request.event, token: request.writer.token });
      }
      throw error;
    }
  }

  async listUnfinished(partition: number, limit: number): Promise<JobRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'by_partition',
        KeyConditionExpression: 'gsi_partition = :p',
        ExpressionAttributeValues: { ':p': String(partition) },
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(fromItem);
  }

  async listByTenant(query: TenantJobQuery): Promise<TenantJobPage> {
    const { tenant, states = [], createdFrom, createdTo, limit } = query;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('listByTenant: limit must be an integer in 1..1000');
    const names: Record<string, string> = { '#tenant': 'tenant' };
    const values: Record<string, unknown> = { ':tenant': tenant };
    let keyCondition = '#tenant = :tenant';
    if (createdFrom !== undefined || createdTo !== undefined) {
      names['#created'] = 'created_at';
      if (createdFrom !== undefined) values[':from'] = createdFrom;
      if (createdTo !== undefined) values[':to'] = createdTo;
      keyCondition +=
        createdFrom !== undefined && createdTo !== undefined
          ? ' AND #created BETWEEN :from AND :to'
          : createdFrom !== undefined
            ? ' AND #created >= :from'
            : ' AND #created <= :to';
    }
    let filter: string | undefined;
    if (states.length > 0) {
      names['#state'] = 'state';
      states.forEach((state, i) => (values[`:s${i}`] = state));
      filter = `#state IN (${states.map((_, i) => `:s${i}`).join(', ')})`;
    }
    const jobs: JobRecord[] = [];
    let start: Record<string, string> | undefined = query.startKey;
    for (let round = 0; round < LIST_MAX_ROUNDS; round += 1) {
      const missing = limit - jobs.length;
      // Without a filter every item evaluated is returned: ask for exactly what is missing. With
      // one, evaluate more per round and cut the page at the limit, restarting after the last kept.
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'by_tenant',
          KeyConditionExpression: keyCondition,
          ...(filter ? { FilterExpression: filter } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: filter ? Math.min(1000, Math.max(missing, 100)) : missing,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
        query.signal ? { abortSignal: query.signal } : {},
      );
      const items = (out.Items ?? []).map(fromItem);
      if (items.length >= missing) {
        const kept = items.slice(0, missing);
        jobs.push(...kept);
        const cutShort = items.length > missing;
        const next = cutShort ? tenantIndexKey(kept[kept.length - 1] as JobRecord) : stringKey(out.LastEvaluatedKey);
        return { jobs, ...(next ? { nextKey: next } : {}) };
      }
      jobs.push(...items);
      start = stringKey(out.LastEvaluatedKey);
      if (!start) return { jobs };
    }
    return { jobs, ...(start ? { nextKey: start } : {}) };
  }
}
