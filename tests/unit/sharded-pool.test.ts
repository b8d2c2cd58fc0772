import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { ShardedPool } from '../../src/runtime/http/sharded-pool.ts';

describe('ShardedPool', () => {
  let server: Server;
  let origin: string;
  const sockets = new Set<string>();
  before(async () => {
    server = createServer((req, res) => {
      sockets.add(`${req.socket.remotePort}`);
      // Held a little, so concurrent requests need connections of their own.
      setTimeout(() => res.end(`ok ${req.url}`), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('splits its connections into shards of at most 128 and answers every request', async () => {
    const pool = new ShardedPool(origin, { connections: 300 });
    assert.equal(pool.shardCount, 3);
    const bodies = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const response = await request(`${origin}/r${i}`, { dispatcher: pool });
        return response.body.text();
      }),
    );
    assert.deepEqual(bodies, Array.from({ length: 30 }, (_, i) => `ok /r${i}`));
    // Thirty calls at once on keep-alive connections: one per call in flight, across the shards.
    assert.equal(sockets.size, 30);
    await pool.close();
  });

  it('refuses a connection count that is not a positive integer', () => {
    assert.throws(() => new ShardedPool(origin, { connections: 0 }), RangeError);
    assert.throws(() => new ShardedPool(origin, { connections: 1.5 }), RangeError);
  });

  it('destroys every shard: requests under way fail', async () => {
    const pool = new ShardedPool(origin, { connections: 200 });
    const pending = request(`${origin}/slow`, { dispatcher: pool });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await pool.destroy();
    await assert.rejects(pending);
  });
});
