import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Piscina, type PiscinaTask } from 'piscina';
import { TwoLaneTaskQueue, URGENT } from '../../src/runtime/cpu/two-lane-task-queue.ts';

const task = (name: string, urgent = false) => ({ name, [Piscina.queueOptionsSymbol]: urgent ? URGENT : null }) as unknown as PiscinaTask;
const names = (queue: TwoLaneTaskQueue) => {
  const out: string[] = [];
  for (let next = queue.shift(); next; next = queue.shift()) out.push((next as unknown as { name: string }).name);
  return out;
};

describe('TwoLaneTaskQueue', () => {
  it('hands out urgent tasks first, each lane in arrival order', () => {
    const queue = new TwoLaneTaskQueue();
    for (const t of [task('r1'), task('c1', true), task('r2'), task('c2', true), task('r3')]) queue.push(t);
    assert.equal(queue.size, 5);
    assert.deepEqual(names(queue), ['c1', 'c2', 'r1', 'r2', 'r3']);
    assert.equal(queue.size, 0);
    assert.equal(queue.shift(), null);
  });

  it('puts a task given back in front of its lane, and removes a queued task on request', () => {
    const queue = new TwoLaneTaskQueue();
    const r2 = task('r2');
    queue.push(task('r1'));
    queue.push(r2);
    queue.push(task('r3'));
    const first = queue.shift() as PiscinaTask;
    queue.unshift(first);
    queue.remove(r2);
    assert.throws(() => queue.remove(r2), /not queued/);
    assert.deepEqual(names(queue), ['r1', 'r3']);
  });

  it('keeps order across many pushes and shifts (its storage compacts as it goes)', () => {
    const queue = new TwoLaneTaskQueue();
    const seen: string[] = [];
    for (let i = 0; i < 5000; i += 1) {
      queue.push(task(`t${i}`));
      if (i % 3 === 0) seen.push((queue.shift() as unknown as { name: string }).name);
    }
    seen.push(...names(queue));
    assert.deepEqual(seen, Array.from({ length: 5000 }, (_, i) => `t${i}`));
  });
});
