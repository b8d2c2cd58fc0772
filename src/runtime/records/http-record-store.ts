import { Agent, request } from 'undici';
import { deadlineSignal } from '../http/deadline.ts';
import { WardenError } from '../../errors.ts';
import type { PatchOutcome, RecordRef, RecordStore, StoredRecord } from '../record-store.ts';

export interface HttpRecordStoreOptions {
  baseUrl: string;
  token?: string;
  connections: number;
  timeoutMs: number;
}

/** A record store failure that a later attempt may not see (5xx, reset, timeout). */
export class RecordStoreUnavailableError extends WardenError {
  constructor(message: string, cause?: unknown) {
    super('record_store_unavailable', message, { retryable: true, cause });
  }
}

/** The record store contract of DESIGN §5 over HTTP with conditional requests (RFC 9110). */
export class HttpRecordStore implements RecordStore {
  private readonly agent: Agent;

  constructor(private readonly options: HttpRecordStoreOptions) {
    this.agent = new Agent({ connections: options.connections, keepAliveTimeout: 30_000 });
  }

  private url(ref: RecordRef): string {
    const path = [ref.base_id, ref.table_id, ref.record_id].map(encodeURIComponent).join('/');
    return `${this.options.baseUrl.replace(/\/$/, '')}/v0/${path}`;
  }

  private async send(method: 'GET' | 'PATCH', ref: RecordRef, signal: AbortSignal | undefined, extra: { body?: string; ifMatch?: string } = {}) {
    const deadline = deadlineSignal(signal, this.options.timeoutMs);
    try {
      const response = await request(this.url(ref), {
        method,
        dispatcher: this.agent,
        signal: deadline.signal,
        headers: {
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
          ...(extra.body ? { 'content-type': 'application/json' } : {}),
          ...(extra.ifMatch ? { 'if-match': `"${extra.ifMatch}"` } : {}),
        },
        ...(extra.body ? { body: extra.body } : {}),
      });
      const text = await response.body.text();
      if (response.statusCode >= 500) {
        throw new RecordStoreUnavailableError(`record store answered ${response.statusCode} to ${method}`);
      }
      return { status: response.statusCode, text };
    } catch (error) {
      if (error instanceof WardenError) throw error;
      throw new RecordStoreUnavailableError(`record store ${method} failed: ${(error as Error).message}`, error);
    } finally {
      deadline.release();
    }
  }

  async get(ref: RecordRef, signal?: AbortSignal): Promise<StoredRecord | undefined> {
    const { status, text } = await this.send('GET', ref, signal);
    if (status === 404) return undefined;
    if (status !== 200) throw new WardenError('record_store_rejected', `record store answered ${status} to GET: ${text.slice(0, 200)}`);
    return JSON.parse(text) as StoredRecord;
  }

  async patch(ref: RecordRef, fields: Record<string, unknown>, version: string, signal?: AbortSignal): Promise<PatchOutcome> {
    const { status, text } = await this.send('PATCH', ref, signal, { body: JSON.stringify({ fields }), ifMatch: version });
    if (status === 200) return { ok: true, version: (JSON.parse(text) as StoredRecord).version };
    if (status === 412) return { ok: false, reason: 'version_moved' };
    if (status === 404) return { ok: false, reason: 'not_found' };
    throw new WardenError('record_store_rejected', `record store answered ${status} to PATCH: ${text.slice(0, 200)}`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
