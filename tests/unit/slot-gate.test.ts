import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlotGate } from '../../src/actors/slot-gate.ts';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SlotGate', () => {
  it('counts free slots', () => {
    const gate = new SlotGate(3);
    assert.equal(gate.free, 3);
    gate.take();
    gate.take();
    assert.equal(gate.free, 1);
    gate.give();
    assert.equal(gate.free, 2);
  });

  it('waitForFree returns at once with the free count when slots are free', async () => {
    const gate = new SlotGate(4);
    gate.take();
    assert.equal(await gate.waitForFree(new AbortController().signal), 3);
  });

  it('waitForFree blocks at capacity and wakes when a slot is given back', async () => {
    const gate = new SlotGate(2);
    gate.take();
    gate.take();
    let result: number | undefined;
    const waiting = gate.waitForFree(new AbortController().signal).then((n) => (result = n));
    await settle();
    assert.equal(result, undefined);
    gate.give();
    await waiting;
    assert.equal(result, 1);
  });

  it('wakes every waiter on a give', async () => {
    const gate = new SlotGate(1);
    gate.take();
    const signal = new AbortController().signal;
    const waiters = [gate.waitForFree(signal), gate.waitForFree(signal)];
    gate.give();
    assert.deepEqual(await Promise.all(waiters), [1, 1]);
  });

  it('waitForFree returns 0 when aborted while waiting', async () => {
    const gate = new SlotGate(1);
    gate.take();
    const controller = new AbortController();
    const waiting = gate.waitForFree(controller.signal);
    await settle();
    controller.abort();
    assert.equal(await waiting, 0);
  });

  it('waitForFree returns 0 for an already aborted signal, even with free slots', async () => {
    const controller = new AbortController();
    controller.abort();
    const full = new SlotGate(1);
    full.take();
    assert.equal(await full.waitForFree(controller.signal), 0);
    assert.equal(await new SlotGate(2).waitForFree(controller.signal), 0);
  });

  it('leaves no abort listener behind after a wake-up by give', async () => {
    const gate = new SlotGate(1);
    gate.take();
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      listeners += 1;
      add(...args);
    }) as typeof add;
    controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      listeners -= 1;
      remove(...args);
    }) as typeof remove;
    const waiting = gate.waitForFree(controller.signal);
    await settle();
    assert.equal(listeners, 1);
    gate.give();
    await waiting;
    assert.equal(listeners, 0);
  });

  it('whenIdle resolves at once when idle and otherwise when the last slot is given back', async () => {
    const gate = new SlotGate(3);
    await gate.whenIdle();
    gate.take();
    gate.take();
    let idle = false;
    const waiting = gate.whenIdle().then(() => (idle = true));
    gate.give();
    await settle();
    assert.equal(idle, false);
    gate.give();
    await waiting;
    assert.equal(idle, true);
  });

  it('waits for a whole batch of free slots when asked, and wakes as slots are given back', async () => {
    const gate = new SlotGate(10);
    for (let i = 0; i < 10; i += 1) gate.take();
    let free: number | undefined;
    const waiting = gate.waitForFree(new AbortController().signal, 4).then((n) => (free = n));
    for (let i = 0; i < 3; i += 1) gate.give();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(free, undefined, 'three free slots are not a batch of four');
    gate.give();
    assert.equal(await waiting, 4);
  });

  it('settles for the slots that are free once the batch wait runs out', async () => {
    const gate = new SlotGate(10);
    for (let i = 0; i < 10; i += 1) gate.take();
    gate.give();
    gate.give();
    assert.equal(await gate.waitForFree(new AbortController().signal, 10, 20), 2);
  });

  it('a deadline never returns zero free slots: it waits for the first one', async () => {
    const gate = new SlotGate(2);
    gate.take();
    gate.take();
    const waiting = gate.waitForFree(new AbortController().signal, 2, 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    gate.give();
    assert.equal(await waiting, 1);
  });

  it('answers 0 when the signal aborts first', async () => {
    const gate = new SlotGate(1);
    gate.take();
    const controller = new AbortController();
    const waiting = gate.waitForFree(controller.signal, 1);
    controller.abort();
    assert.equal(await waiting, 0);
  });
});
