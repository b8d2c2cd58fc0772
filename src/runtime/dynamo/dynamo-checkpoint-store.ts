import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OwnershipLostError } from '../../errors.ts';
import { isTerminal } from '../../jobs/job-states.ts';
import type { AuditEntry, JobRecord } from '../../jobs/job-record.ts';
import { transition } from '../../jobs/transition-table.ts';
import type { Clock } from '../clock.ts';
import type { CheckpointStore, CreateOutcome, TransitionRequest } from '../checkpoint-store.ts';

type Item = Omit<JobRecord, 'id'> & { pk: string; gsi_partition?: string };

function toItem(job: JobRecord): Item {
  const { id, ...rest } = job;
  return { pk: id, ...rest, ...(isTerminal(job.state) ? {} : { gsi_partition: String(job.partition) }) };
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
}
