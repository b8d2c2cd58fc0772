/**
 * The simulated record store: the §5 contract plus the counts that prove (or disprove)
 * one write-back per generation and no stale write.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen, sendJson } from '../sim-llm/http-io.ts';
import { Timers } from '../sim-llm/timers.ts';
import { handleAdmin, type AdminContext } from './admin-routes.ts';
import { handleRecordApi, storeError, type StoreContext } from './api-routes.ts';
import { resolveSimRecordStoreOptions, type ResolvedSimRecordStoreOptions, type SimRecordStoreOptions } from './options.ts';
import { RecordTable, type Fields, type SimRecord } from './record-table.ts';
import { emptyRequestCounts, type RequestCounts, type SimRecordStoreStats } from './store-stats.ts';
import { WritebackAudit } from './writeback-audit.ts';

export interface SimRecordStore {
  /** Origin, e.g. http://127.0.0.1:41235; records live under `${url}/v0`. */
  readonly url: string;
  readonly port: number;
  stats(): SimRecordStoreStats;
  /** Clears counters and the written-digest memory; records too when `records: true`. */
  reset(opts?: { records?: boolean }): void;
  /** Creates or replaces a record (new version). */
  putRecord(baseId: string, tableId: string, recordId: string, fields: Fields): SimRecord;
  /** Merges fields as a user edit (new version); null when the record is absent. */
  editRecord(baseId: string, tableId: string, recordId: string, fields: Fields): SimRecord | null;
  getRecord(baseId: string, tableId: string, recordId: string): SimRecord | null;
  deleteRecord(baseId: string, tableId: string, recordId: string): boolean;
  close(): Promise<void>;
}

function decodeSegments(path: string): string[] | null {
  try {
    return path.split('/').filter((s) => s !== '').map(decodeURIComponent);
  } catch {
    return null;
  }
}

class SimRecordStoreServer implements SimRecordStore, AdminContext {
  readonly url: string;
  readonly maxBodyBytes: number;
  private readonly table = new RecordTable();
  private readonly audit = new WritebackAudit();
  private readonly timers = new Timers();
  private counts: RequestCounts = emptyRequestCounts();
  private readonly api: StoreContext;
  private closing: Promise<void> | null = null;
  /** Requests sleeping through latencyMs; close() wakes them so their handlers finish. */
  private readonly waiters = new Set<(ok: boolean) => void>();

  constructor(opts: ResolvedSimRecordStoreOptions, private readonly server: Server, readonly port: number) {
    this.url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    this.maxBodyBytes = opts.maxBodyBytes;
    this.api = {
      opts,
      table: this.table,
      audit: this.audit,
      counts: () => this.counts,
      delay: () => this.delay(opts.latencyMs),
    };
  }

  private delay(ms: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.waiters.delete(done);
        resolve(ok);
      };
      this.waiters.add(done);
      this.timers.after(ms, () => done(this.closing === null));
    });
  }

  stats(): SimRecordStoreStats {
    return { ...this.counts, ...this.audit.snapshot(), records: this.table.size };
  }

  reset(opts: { records?: boolean } = {}): void {
    this.counts = emptyRequestCounts();
    this.audit.reset();
    if (opts.records) this.table.clear();
  }

  putRecord(baseId: string, tableId: string, recordId: string, fields: Fields): SimRecord {
    return this.table.put({ baseId, tableId, recordId }, fields).record;
  }

  editRecord(baseId: string, tableId: string, recordId: string, fields: Fields): SimRecord | null {
    return this.table.merge({ baseId, tableId, recordId }, fields);
  }

  getRecord(baseId: string, tableId: string, recordId: string): SimRecord | null {
    return this.table.get({ baseId, tableId, recordId });
  }

  deleteRecord(baseId: string, tableId: string, recordId: string): boolean {
    return this.table.delete({ baseId, tableId, recordId });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.timers.stop();
      for (const wake of [...this.waiters]) wake(false);
      await closeServer(this.server);
    })();
    return this.closing;
  }

  async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const segments = decodeSegments((req.url ?? '/').split('?')[0] ?? '/');
    if (segments?.[0] === 'v0' && segments.length === 4) {
      const [, baseId = '', tableId = '', recordId = ''] = segments;
      return handleRecordApi(this.api, req, res, { baseId, tableId, recordId });
    }
    if (segments?.[0] === '__sim') return handleAdmin(this, req, res, segments.slice(1));
    req.resume();
    sendJson(res, 404, storeError('NOT_FOUND', 'unknown route'));
  }
}

/** Starts the simulated record store on a (by default free) loopback port. */
export async function startSimRecordStore(options: SimRecordStoreOptions = {}): Promise<SimRecordStore> {
  const opts = resolveSimRecordStoreOptions(options);
  let store: SimRecordStoreServer | null = null;
  const server = createServer((req, res) => {
    if (!store) return void res.destroy();
    store.route(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, storeError('INTERNAL', 'simulator internal error'));
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const port = await listen(server, opts.host, opts.port);
  store = new SimRecordStoreServer(opts, server, port);
  return store;
}
