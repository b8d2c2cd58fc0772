import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputHash } from '../../src/jobs/job-key.ts';
import { inputsStillCurrent } from '../../src/jobs/record-currency.ts';

const inputs = { notes: 'Call back Monday', amount: 1200, vip: true, owner: null };
const ids = Object.keys(inputs);
const hash = inputHash(inputs);

describe('inputsStillCurrent', () => {
  it('is true when the record holds the same values', () => {
    assert.equal(inputsStillCurrent(ids, hash, { ...inputs }), true);
  });

  it('is true whatever order the record lists its fields in', () => {
    assert.equal(inputsStillCurrent([...ids].reverse(), hash, { owner: null, vip: true, amount: 1200, notes: 'Call back Monday' }), true);
  });

  it('is false when an input value changed', () => {
    assert.equal(inputsStillCurrent(ids, hash, { ...inputs, notes: 'Call back Tuesday' }), false);
    assert.equal(inputsStillCurrent(ids, hash, { ...inputs, amount: 1201 }), false);
    assert.equal(inputsStillCurrent(ids, hash, { ...inputs, vip: false }), false);
    assert.equal(inputsStillCurrent(ids, hash, { ...inputs, owner: 'usr1' }), false);
  });

  it('is false when only the type changed (1200 → "1200")', () => {
    assert.equal(inputsStillCurrent(ids, hash, { ...inputs, amount: '1200' }), false);
  });

  it('is true when a field the job does not read changed', () => {
    assert.equal(inputsStillCurrent(ids, hash, { ...inputs, summary: 'old generated text', status: 'won' }), true);
  });

  it('counts a missing input field as null', () => {
    // The job read owner = null; the record no longer has the field at all: still current.
    const { owner: _owner, ...withoutOwner } = inputs;
    assert.equal(inputsStillCurrent(ids, hash, withoutOwner), true);
    assert.equal(inputsStillCurrent(ids, hash, { ...withoutOwner, owner: undefined }), true);
    // The job read notes = 'Call back Monday'; the field is gone: superseded.
    const { notes: _notes, ...withoutNotes } = inputs;
    assert.equal(inputsStillCurrent(ids, hash, withoutNotes), false);
  });

  it('compares a structured record value by its JSON text', () => {
    const tags = ['a', 'b'];
    const jobHash = inputHash({ tags: JSON.stringify(tags) });
    assert.equal(inputsStillCurrent(['tags'], jobHash, { tags }), true);
    assert.equal(inputsStillCurrent(['tags'], jobHash, { tags: ['a', 'c'] }), false);
  });
});
