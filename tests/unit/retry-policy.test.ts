import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, retryDelayMs } from '../../src/actors/retry-policy.ts';

const almostOne = () => 0.9999999;
const zero = () => 0;

describe('backoffDelayMs (capped exponential, full jitter)', () => {
  it('stays below the ceiling base·2^(attempt-1) and grows with the attempt', () => {
    let previous = -1;
    for (let attempt = 1; attempt <= 6; attempt += 1) {
      const ceiling = 100 * 2 ** (attempt - 1);
      const delay = backoffDelayMs(attempt, 100, 1_000_000, almostOne);
      assert.ok(delay < ceiling, `attempt ${attempt}: ${delay} < ${ceiling}`);
      assert.ok(delay >= ceiling - 1, `attempt ${attempt}: ${delay} near ${ceiling}`);
      assert.ok(delay > previous, `attempt ${attempt} grows`);
      previous = delay;
    }
  });

  it('is capped at maxMs, even for huge attempt numbers', () => {
    for (const attempt of [8, 20, 100, 5000]) {
      const delay = backoffDelayMs(attempt, 100, 10_000, almostOne);
      assert.ok(delay < 10_000 && delay >= 9_999, `attempt ${attempt}: ${delay}`);
    }
  });

  it('is 0 when the jitter draws 0 (full jitter)', () => {
    for (const attempt of [1, 3, 50]) assert.equal(backoffDelayMs(attempt, 1000, 60_000, zero), 0);
  });

  it('scales linearly with the random draw and returns whole milliseconds', () => {
    assert.equal(backoffDelayMs(3, 1000, 60_000, () => 0.5), 2000);
    assert.equal(backoffDelayMs(1, 1000, 60_000, () => 0.3333), 333);
  });

  it('treats attempt 0 or below like the first attempt', () => {
    assert.equal(backoffDelayMs(0, 1000, 60_000, () => 0.5), 500);
    assert.equal(backoffDelayMs(-3, 1000, 60_000, () => 0.5), 500);
  });

  it('with Math.random stays within [0, ceiling)', () => {
    for (let i = 0; i < 200; i += 1) {
      const delay = backoffDelayMs(4, 250, 1500);
      assert.ok(Number.isInteger(delay) && delay >= 0 && delay < 1500);
    }
  });
});

describe('retryDelayMs', () => {
  it('uses the provider retry-after when it is larger', () => {
    assert.equal(retryDelayMs(1, { baseMs: 100, maxMs: 1000, retryAfterMs: 30_000 }, almostOne), 30_000);
  });

  it('uses its own backoff when retry-after is smaller or absent', () => {
    assert.equal(retryDelayMs(3, { baseMs: 100, maxMs: 1000, retryAfterMs: 10 }, () => 0.5), 200);
    assert.equal(retryDelayMs(3, { baseMs: 100, maxMs: 1000 }, () => 0.5), 200);
  });

  it('waits retry-after even when the jitter draws 0', () => {
    assert.equal(retryDelayMs(2, { baseMs: 100, maxMs: 1000, retryAfterMs: 750 }, zero), 750);
  });
});
