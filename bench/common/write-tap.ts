/**
 * Notes when each write-back lands at the simulated record store: wraps the server's request
 * router (bench-only; the store itself is unchanged) and records the time of every PATCH answered
 * 200, by record id. Freshness = that time − the job's submission time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimRecordStore } from '../../src/stack/sim-record-store/index.ts';

export class WriteTap {
  /** record id → time (ms since epoch) of its first landed write-back. */
  readonly firstWrite = new Map<string, number>();
  landed = 0;

  constructor(store: SimRecordStore) {
    const server = store as unknown as { route(req: IncomingMessage, res: ServerResponse): Promise<void> };
    const route = server.route.bind(server);
    server.route = (req, res) => {
      if (req.method === 'PATCH') {
        const recordId = decodeURIComponent((req.url ?? '').split('?')[0]?.split('/')[4] ?? '');
        res.once('finish', () => {
          if (res.statusCode !== 200) return;
          this.landed += 1;
          if (!this.firstWrite.has(recordId)) this.firstWrite.set(recordId, Date.now());
        });
      }
      return route(req, res);
    };
  }
}
