import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineSignal } from '../../src/runtime/http/deadline.ts';

describe('deadlineSignal', () => {
  it('aborts after its time with a TimeoutError, as AbortSignal.timeout does', async () => {
    const { signal, release } = deadlineSignal(undefined, 10);
    // Its timer, like AbortSignal.timeout's, does not hold the process open: this one does.
    const keepAlive = setTimeout(() => undefined, 5000);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    clearTimeout(keepAlive);
    assert.ok(signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError');
    release();
  });

  it('aborts with the parent, and its reason', () => {
    const parent = new AbortController();
    const { signal, release } = deadlineSignal(parent.signal, 60_000);
    const reason = new Error('lease lost');
    parent.abort(reason);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, reason);
    release();
  });

  it('starts aborted under an aborted parent', () => {
    const parent = new AbortController();
    parent.abort('gone');
    assert.equal(deadlineSignal(parent.signal, 60_000).signal.reason, 'gone');
  });

  it('once released, neither the timer nor the parent aborts it', async () => {
    const parent = new AbortController();
    const { signal, release } = deadlineSignal(parent.signal, 5);
    release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    parent.abort('late');
    assert.equal(signal.aborted, false);
  });
});
