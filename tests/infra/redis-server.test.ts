import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../src/stack/infra/redis-server.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

describe('startRedisServer', () => {
  let server: RedisServer;
  let client: Redis;

  before(async () => {
    server = await startRedisServer();
    // Reconnects on its own after a restart, like the runtime's client would.
    client = new Redis(server.url, { maxRetriesPerRequest: 50, retryStrategy: () => 20 });
  });

  after(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it('answers PING on 127.0.0.1 only, without persistence', async () => {
    assert.match(server.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.port, 6379);
    assert.equal(await client.ping(), 'PONG');
    assert.deepEqual(await client.config('GET', 'bind'), ['bind', '127.0.0.1']);
    assert.deepEqual(await client.config('GET', 'save'), ['save', '']);
    assert.deepEqual(await client.config('GET', 'appendonly'), ['appendonly', 'no']);
  });

  it('restart({wipe:false}) keeps the data and the port', async () => {
    await client.set('kept', '1');
    const { port, pid } = server;
    await server.restart({ wipe: false });
    assert.equal(server.port, port);
    assert.notEqual(server.pid, pid);
    assert.equal(isAlive(pid), false);
    assert.equal(await client.get('kept'), '1');
  });

  it('restart({wipe:true}) loses every key and keeps the port', async () => {
    await client.set('lost', '1');
    const { port, pid, url } = server;
    await server.restart({ wipe: true });
    assert.equal(server.port, port);
    assert.equal(server.url, url);
    assert.notEqual(server.pid, pid);
    assert.equal(isAlive(pid), false);
    assert.equal(await client.get('lost'), null);
    assert.equal(await client.get('kept'), null);
    assert.equal(await client.dbsize(), 0);
  });

  it('rejects a restart without a boolean wipe', async () => {
    await assert.rejects(server.restart({} as { wipe: boolean }), /options\.wipe/);
  });
});

describe('startRedisServer lifecycle', () => {
  it('stop() kills redis-server, removes its temp dir and is idempotent', async () => {
    const server = await startRedisServer();
    const { pid } = server;
    const probe = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null });
    const dir = (await probe.config('GET', 'dir')) as string[];
    probe.disconnect();
    assert.equal(isAlive(pid), true);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    assert.equal(isAlive(pid), false);
    assert.equal(existsSync(dir[1] ?? ''), false);
    await assert.rejects(server.restart({ wipe: true }), /stopped/);
  });

  it('uses a given port and dir', async (t) => {
    const first = await startRedisServer();
    const port = first.port;
    await first.stop();
    const dir = mkdtempSync(join(tmpdir(), 'warden-redis-test-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const server = await startRedisServer({ port, dir });
    t.after(() => server.stop());
    assert.equal(server.port, port);
    const client = new Redis(server.url, { retryStrategy: () => null });
    t.after(() => client.disconnect());
    assert.deepEqual(await client.config('GET', 'dir'), ['dir', dir]);
  });

  it('validates options, naming the field', async () => {
    await assert.rejects(startRedisServer({ port: 70_000 }), /options\.port/);
    await assert.rejects(startRedisServer({ dir: '' }), /options\.dir/);
    await assert.rejects(startRedisServer({ startTimeoutMs: -1 }), /options\.startTimeoutMs/);
  });

  it('fails clearly when redis-server is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await assert.rejects(startRedisServer(), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'redis_server_missing');
        assert.match(error.message, /scripts\/ensure-redis\.sh/);
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
  });
});
