import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.ts';

export interface FleetControlState {
  /** Hosts an operator drained: their supervisors hold no partitions until resumed. */
  drainedHosts: Map<string, string>;
  /** Prompt versions (or 'all') whose bulk jobs wait; interactive jobs are never paused. */
  pausedBackfills: Map<string, string>;
}

const KEY = { pk: 'control#fleet' };
const NAME = /^[A-Za-z0-9._-]{1,128}$/;

/**
 * Operator controls (drain a host, pause backfills), kept in the fences table rather than in
 * Redis: an operator's intent must survive a Redis failover. One item, one attribute per control,
 * so every supervisor reads all controls with one GetItem per rebalance round.
 */
export class FleetControls {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async read(): Promise<FleetControlState> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: KEY, ConsistentRead: true }));
    const state: FleetControlState = { drainedHosts: new Map(), pausedBackfills: new Map() };
    for (const [name, value] of Object.entries(out.Item ?? {})) {
      if (name.startsWith('drain:')) state.drainedHosts.set(name.slice('drain:'.length), String(value));
      if (name.startsWith('backfill:')) state.pausedBackfills.set(name.slice('backfill:'.length), String(value));
    }
    return state;
  }

  drainHost(host: string, reason: string): Promise<void> {
    return this.set(`drain:${checked(host, 'host')}`, reason);
  }

  resumeHost(host: string): Promise<void> {
    return this.remove(`drain:${checked(host, 'host')}`);
  }

  pauseBackfill(promptVersion: string, reason: string): Promise<void> {
    return this.set(`backfill:${checked(promptVersion, 'prompt version')}`, reason);
  }

  resumeBackfill(promptVersion: string): Promise<void> {
    return this.remove(`backfill:${checked(promptVersion, 'prompt version')}`);
  }

  private async set(attribute: string, reason: string): Promise<void> {
    const note = `${new Date().toISOString()} ${reason || 'no reason given'}`.slice(0, 500);
    await this.doc.send(
      new UpdateCommand({ TableName: this.table, Key: KEY, UpdateExpression: 'SET #a = :v', ExpressionAttributeNames: { '#a': attribute }, ExpressionAttributeValues: { ':v': note } }),
    );
  }

  private async remove(attribute: string): Promise<void> {
    await this.doc.send(new UpdateCommand({ TableName: this.table, Key: KEY, UpdateExpression: 'REMOVE #a', ExpressionAttributeNames: { '#a': attribute } }));
  }
}

function checked(value: string, what: string): string {
  if (!NAME.test(value)) throw new ValidationError('invalid_option', `${what} must match ${NAME.source}, got '${value}'`);
  return value;
}

/** Is a bulk job of this prompt version paused by an operator? */
export function backfillPaused(state: FleetControlState, promptVersion: string): boolean {
  return state.pausedBackfills.has('all') || state.pausedBackfills.has(promptVersion);
}
