import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from '../../src/runtime/sqs/batcher.ts';

type Failure = { index: number; error: Error };
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder(answer: (entries: string[]) => Failure[] | Promise<Failure[]> = () => []) {
  const batches: string[][] = [];
  const send = async (entries: string[]) => {
    batches.push([...entries]);
    return answer(entries);
  };
  return { batches, send };
}

/** Resolves to 'ok' or the rejection message, so settled promises can be compared at once. */
const outcome = (promise: Promise<void>) => promise.then(() => 'ok', (error: Error) => error.message);

describe('Batcher', () => {
  it('sends a full batch as soon as maxSize entries are waiting, without waiting the linger', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batches, send } = recorder();
    const batcher = new Batcher(send, 3, 10_000);
    const added = ['a', 'b', 'c'].map((entry) => batcher.add(entry));
    assert.deepEqual(await Promise.all(added.map(outcome)), ['ok', 'ok', 'ok']);
    assert.deepEqual(batches, [['a', 'b', 'c']]);
  });

  it('splits entries into batches of at most maxSize, in arrival order', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batches, send } = recorder();
    const batcher = new Batcher(send, 3, 50);
    const added = ['1', '2', '3', '4', '5', '6', '7'].map((entry) => batcher.add(entry));
    await settle();
    t.mock.timers.tick(50);
    await Promise.all(added);
    assert.ok(batches.every((batch) => batch.length >= 1 && batch.length <= 3), JSON.stringify(batches));
    assert.deepEqual(batches.slice(0, 2), [['1', '2', '3'], ['4', '5', '6']]);
    assert.deepEqual(batches.flat(), ['1', '2', '3', '4', '5', '6', '7']);
  });

  it('sends a partial batch lingerMs after its first entry, not before', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batches, send } = recorder();
    const batcher = new Batcher(send, 10, 50);
    const first = batcher.add('a');
    t.mock.timers.tick(30);
    const second = batcher.add('b');
    t.mock.timers.tick(19);
    await settle();
    assert.deepEqual(batches, []);
    t.mock.timers.tick(1);
    await Promise.all([first, second]);
    assert.deepEqual(batches, [['a', 'b']]);
  });

  it('rejects only the entries the batch call reports as failed', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { send } = recorder(() => [{ index: 1, error: new Error('ReceiptHandleIsInvalid') }]);
    const batcher = new Batcher(send, 3, 50);
    const added = ['a', 'b', 'c'].map((entry) => batcher.add(entry));
    assert.deepEqual(await Promise.all(added.map(outcome)), ['ok', 'ReceiptHandleIsInvalid', 'ok']);
  });

  it('rejects every entry of a batch whose call throws, and keeps working afterwards', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let calls = 0;
    const batcher = new Batcher<string>(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('network down');
        return [];
      },
      2,
      50,
    );
    const first = ['a', 'b'].map((entry) => batcher.add(entry));
    assert.deepEqual(await Promise.all(first.map(outcome)), ['network down', 'network down']);
    const second = ['c', 'd'].map((entry) => batcher.add(entry));
    assert.deepEqual(await Promise.all(second.map(outcome)), ['ok', 'ok']);
  });

  it('flush() sends what is pending at once and cancels the linger timer', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batches, send } = recorder();
    const batcher = new Batcher(send, 10, 1_000);
    const added = [batcher.add('a'), batcher.add('b')];
    await batcher.flush();
    assert.deepEqual(batches, [['a', 'b']]);
    await Promise.all(added);
    t.mock.timers.tick(1_000);
    await settle();
    assert.deepEqual(batches, [['a', 'b']], 'the cancelled timer sends nothing more');
  });

  it('flush() with nothing pending sends nothing', async () => {
    const { batches, send } = recorder();
    await new Batcher(send, 10, 50).flush();
    assert.deepEqual(batches, []);
  });

  it('never sends an empty batch', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { batches, send } = recorder();
    const batcher = new Batcher(send, 2, 50);
    const added = ['a', 'b', 'c', 'd'].map((entry) => batcher.add(entry));
    await Promise.all(added);
    t.mock.timers.tick(500);
    await settle();
    assert.ok(batches.every((batch) => batch.length > 0));
    assert.deepEqual(batches, [['a', 'b'], ['c', 'd']]);
  });
});
