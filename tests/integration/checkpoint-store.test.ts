import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { OwnershipLostError } from '../../src/errors.ts';
import { newJobRecord } from '../../src/jobs/new-job.ts';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ supervise: false });
});
after(async () => {
  await h.stop();
});

async function createdJob() {
  const job = newJobRecord({ request: seedRequest(h), contextRef: undefined, partitions: 2, traceId: 't', submittedBy: 'test', now: new Date() });
  assert.equal((await h.runtime.checkpoints.create(job)).created, true);
  return job;
}

describe('DynamoDB checkpoint store', () => {
  it('creates once: a second conditional put returns the stored job', async () => {
    const job = await createdJob();
    const again = await h.runtime.checkpoints.create({ ...job, trace_id: 'other' });
    assert.equal(again.created, false);
    assert.equal(again.job.trace_id, 't');
  });

  it('refuses in DynamoDB a transition whose expected state is not the stored one', async () => {
    const job = await createdJob();
    const writer = { actor: 'owner-a', token: 1 };
    await h.runtime.checkpoints.transition(job.id, { event: 'start', from: 'queued', writer });
    // start from 'queued' is legal for the reducer; only the stored state ('running') can refuse it.
    await assert.rejects(h.runtime.checkpoints.transition(job.id, { event: 'start', from: 'queued', writer }), OwnershipLostError);
    const stored = await h.runtime.checkpoints.get(job.id);
    assert.equal(stored?.state, 'running');
    assert.equal(stored?.seq, 1);
  });

  it('refuses a write by an owner whose fencing token is older than the stored one', async () => {
    const job = await createdJob();
    await h.runtime.checkpoints.transition(job.id, { event: 'start', from: 'queued', writer: { actor: 'new-owner', token: 7 } });
    await assert.rejects(
      h.runtime.checkpoints.transition(job.id, { event: 'generate', from: 'running', writer: { actor: 'zombie', token: 6 } }),
      (error: unknown) => error instanceof OwnershipLostError && error.code === 'ownership_lost',
    );
    const stored = await h.runtime.checkpoints.get(job.id);
    assert.equal(stored?.state, 'running');
    assert.equal(stored?.owner, 'new-owner');
  });

  it('keeps the audit trail in the item, one line per transition with time, actor, token and reason', async () => {
    const job = await createdJob();
    const writer = { actor: 'owner-b', token: 3 };
    await h.runtime.checkpoints.transition(job.id, { event: 'start', from: 'queued', writer, patch: { attempts: 1 } });
    await h.runtime.checkpoints.transition(job.id, { event: 'reclaim', from: 'running', writer: { actor: 'owner-b', token: 4 }, reason: 'taken over' });
    const done = await h.runtime.checkpoints.transition(job.id, { event: 'fail', from: 'leased', writer: { actor: 'owner-b', token: 4 }, reason: 'llm_rejected' });
    assert.deepEqual(done.audit.map((line) => [line.event, line.from, line.to, line.actor, line.token]), [
      ['submit', 'queued', 'queued', 'test', 0],
      ['start', 'queued', 'running', 'owner-b', 3],
      ['reclaim', 'running', 'leased', 'owner-b', 4],
      ['fail', 'leased', 'failed', 'owner-b', 4],
    ]);
    assert.equal(done.audit.at(-1)?.reason, 'llm_rejected');
    assert.ok(done.audit.every((line) => !Number.isNaN(Date.parse(line.at))));
    assert.ok(done.finished_at);
  });

  it('stores the 180-day TTL attribute and keeps only unfinished jobs in the partition index', async () => {
    const job = await createdJob();
    const raw = await h.runtime.aws.doc.send(new GetCommand({ TableName: h.stack.config.tables.jobs, Key: { pk: job.id } }));
    const expiresAt = raw.Item?.['expires_at'] as number;
    const days = (expiresAt - Date.parse(job.created_at) / 1000) / 86400;
    assert.ok(Math.abs(days - 180) < 0.01, `expires_at is ${days} days after creation`);
    assert.ok((await h.runtime.checkpoints.listUnfinished(job.partition, 100)).some((j) => j.id === job.id));
    await h.runtime.checkpoints.transition(job.id, { event: 'cancel', from: 'queued', writer: { actor: 'api' } });
    assert.ok(!(await h.runtime.checkpoints.listUnfinished(job.partition, 100)).some((j) => j.id === job.id));
  });

  it('refuses an illegal transition before any write', async () => {
    const job = await createdJob();
    await assert.rejects(
      h.runtime.checkpoints.transition(job.id, { event: 'write', from: 'queued', writer: { actor: 'x', token: 1 } }),
      (error: unknown) => (error as { code?: string }).code === 'illegal_transition',
    );
    assert.equal((await h.runtime.checkpoints.get(job.id))?.seq, 0);
  });
});
