import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldLocks } from '../../src/actors/field-locks.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FieldLocks', () => {
  it('serializes work on one key: the second starts only after the first finishes', async () => {
    const locks = new FieldLocks();
    const log: string[] = [];
    const gate = deferred();
    const first = locks.run('rec1/fld1', async () => {
      log.push('first:start');
      await gate.promise;
      log.push('first:end');
      return 1;
    });
    const second = locks.run('rec1/fld1', async () => {
      log.push('second:start');
      return 2;
    });
    await settle();
    assert.deepEqual(log, ['first:start']);
    gate.resolve();
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    assert.deepEqual(log, ['first:start', 'first:end', 'second:start']);
  });

  it('keeps arrival order for three waiters on one key', async () => {
    const locks = new FieldLocks();
    const log: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const work = (n: number) => async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await settle();
      log.push(n);
      running -= 1;
    };
    await Promise.all([locks.run('k', work(1)), locks.run('k', work(2)), locks.run('k', work(3))]);
    assert.deepEqual(log, [1, 2, 3]);
    assert.equal(maxRunning, 1);
  });

  it('runs work on different keys concurrently', async () => {
    const locks = new FieldLocks();
    const gate = deferred();
    const started: string[] = [];
    const a = locks.run('rec1/fldA', async () => {
      started.push('A');
      await gate.promise;
    });
    const b = locks.run('rec1/fldB', async () => {
      started.push('B');
      await gate.promise;
    });
    await settle();
    assert.deepEqual(started.sort(), ['A', 'B']);
    assert.equal(locks.size, 2);
    gate.resolve();
    await Promise.all([a, b]);
  });

  it('releases the lock when the work throws, and passes the error on', async () => {
    const locks = new FieldLocks();
    const failing = locks.run('k', async () => {
      throw new Error('boom');
    });
    const next = locks.run('k', async () => 'ran');
    await assert.rejects(failing, /boom/);
    assert.equal(await next, 'ran');
    assert.equal(locks.size, 0);
  });

  it('forgets a key once its last holder finishes', async () => {
    const locks = new FieldLocks();
    await locks.run('k', async () => undefined);
    assert.equal(locks.size, 0);
    const gate = deferred();
    const held = locks.run('k', () => gate.promise);
    assert.equal(locks.size, 1);
    gate.resolve();
    await held;
    assert.equal(locks.size, 0);
  });
});
