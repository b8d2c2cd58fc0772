import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import { messagePriority, parseJobMessage } from '../../src/jobs/job-message.ts';

const JOB_ID = 'a'.repeat(64);
const good = { v: 1, job_id: JOB_ID, trace_id: 'trace-1' };

function poison(body: string, pattern: RegExp) {
  assert.throws(
    () => parseJobMessage(body),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.equal(error.code, 'poison_message');
      assert.equal(error.retryable, false);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('parseJobMessage', () => {
  it('parses a claim-check message', () => {
    assert.deepEqual(parseJobMessage(JSON.stringify(good)), good);
  });

  it('parses a message carrying a submission', () => {
    const message = {
      ...good,
      submit: {
        request: { base_id: 'b', table_id: 't', record_id: 'r', field_id: 'f', prompt_version: 'v1', inputs: { a: 1 } },
        context_ref: { key: `payloads/${good.job_id}/y.context`, sha256: 'c'.repeat(64), bytes: 10 },
        context_sha256: 'd'.repeat(64),
        submitted_at: '2025-01-01T00:00:00.000Z',
      },
    };
    assert.deepEqual(parseJobMessage(JSON.stringify(message)), message);
  });

  it('carries the priority class so a consumer can schedule before reading the job', () => {
    const bulk = parseJobMessage(JSON.stringify({ ...good, priority: 'bulk' }));
    assert.equal(messagePriority(bulk), 'bulk');
    assert.equal(messagePriority(parseJobMessage(JSON.stringify(good))), 'interactive');
    const submitted = { ...good, submit: { request: { base_id: 'b', table_id: 't', record_id: 'r', field_id: 'f', prompt_version: 'v1', inputs: {}, priority: 'bulk' }, submitted_at: '2025-01-01T00:00:00.000Z' } };
    assert.equal(messagePriority(parseJobMessage(JSON.stringify(submitted))), 'bulk');
    poison(JSON.stringify({ ...good, priority: 'urgent' }), /priority must be 'interactive' or 'bulk'/);
  });

  it('refuses a body that is not JSON', () => {
    for (const body of ['', 'not json', '{"v":1,', '{v:1}']) poison(body, /not JSON/);
  });

  it('refuses JSON that is not an object', () => {
    for (const body of ['[]', JSON.stringify([good]), 'null', '1', '"text"', 'true']) poison(body, /not a JSON object/);
  });

  it('refuses a missing or wrong version', () => {
    for (const v of [undefined, 0, 2, '1', null]) poison(JSON.stringify({ ...good, v }), /version/);
  });

  it('refuses a bad job_id', () => {
    for (const job_id of [undefined, '', 'abc', 'A'.repeat(64), 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 42]) {
      poison(JSON.stringify({ ...good, job_id }), /job_id/);
    }
  });

  it('refuses a missing, empty, non-string or oversized trace_id', () => {
    const { trace_id: _trace, ...withoutTrace } = good;
    poison(JSON.stringify(withoutTrace), /trace_id/);
    for (const trace_id of ['', 7, null, 't'.repeat(129)]) poison(JSON.stringify({ ...good, trace_id }), /trace_id/);
    assert.equal(parseJobMessage(JSON.stringify({ ...good, trace_id: 't'.repeat(128) })).trace_id.length, 128);
  });

  it('refuses a submit that is not an object', () => {
    for (const submit of [null, 'x', 3]) poison(JSON.stringify({ ...good, submit }), /submit/);
  });
});
