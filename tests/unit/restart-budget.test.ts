import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartBudget } from '../../src/supervisor/restart-budget.ts';

describe('RestartBudget (MaxR in MaxT)', () => {
  it('allows maxRestarts within the window and refuses the next', () => {
    const budget = new RestartBudget(3, 60_000);
    assert.equal(budget.allow(0), true);
    assert.equal(budget.allow(1_000), true);
    assert.equal(budget.allow(2_000), true);
    assert.equal(budget.used, 3);
    assert.equal(budget.allow(3_000), false);
    assert.equal(budget.allow(59_999), false);
    assert.equal(budget.used, 3, 'refusals use no budget');
  });

  it('allows again once the oldest restart leaves the sliding window', () => {
    const budget = new RestartBudget(2, 10_000);
    assert.equal(budget.allow(0), true);
    assert.equal(budget.allow(5_000), true);
    assert.equal(budget.allow(9_999), false);
    assert.equal(budget.allow(10_000), true, 'the restart at 0 has left the window');
    assert.equal(budget.allow(14_999), false, 'the restarts at 5,000 and 10,000 still count');
    assert.equal(budget.allow(15_000), true);
  });

  it('forgets everything after a quiet window', () => {
    const budget = new RestartBudget(2, 1_000);
    budget.allow(0);
    budget.allow(1);
    assert.equal(budget.allow(10_000), true);
    assert.equal(budget.used, 1);
  });

  it('with a budget of 0 never allows a restart', () => {
    assert.equal(new RestartBudget(0, 1_000).allow(0), false);
  });
});
