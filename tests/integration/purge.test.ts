import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { purgePayloads } from '../../src/ops/purge-payloads.ts';
import { startHarness, seedRequest, type Harness } from '../support/harness.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.stop();
});

describe('payload retention (warden purge)', () => {
  it('removes raw payloads of finished jobs past the cutoff and keeps their status queryable', async () => {
    const { body } = await h.post(seedRequest(h, { context: 'context to be purged' }));
    const done = await h.waitFor(body.id);
    assert.equal(done.state, 'succeeded');
    assert.ok(done.context_ref && done.result && done.inputs_sealed);
    const deps = { doc: h.runtime.aws.doc, s3: h.runtime.aws.s3, jobsTable: h.stack.config.tables.jobs, bucket: h.stack.config.bucket };

    const nothing = await purgePayloads(deps, new Date(Date.now() - 86_400_000), false);
    assert.equal(nothing.jobs_purged, 0, 'a job younger than the cutoff keeps its payloads');

    const dry = await purgePayloads(deps, new Date(Date.now() + 86_400_000), true);
    assert.ok(dry.jobs_purged >= 1);
    assert.ok((await h.runtime.checkpoints.get(body.id))?.result, 'a dry run changes nothing');

    const report = await purgePayloads(deps, new Date(Date.now() + 86_400_000), false);
    assert.ok(report.jobs_purged >= 1 && report.objects_deleted >= 1);
    const purged = await h.runtime.checkpoints.get(body.id);
    assert.equal(purged?.state, 'succeeded');
    assert.equal(purged?.result, undefined);
    assert.equal(purged?.inputs_sealed, undefined);
    assert.equal(purged?.context_ref, undefined);
    const objects = await h.runtime.aws.s3.send(new ListObjectsV2Command({ Bucket: h.stack.config.bucket, Prefix: `payloads/${body.id}/` }));
    assert.equal(objects.KeyCount ?? 0, 0);
    const status = await h.get(`/v1/jobs/${body.id}`);
    assert.equal(status.status, 200);
    assert.equal(status.body.status, 'succeeded');
    assert.equal((await h.get(`/v1/jobs/${body.id}/result`)).status, 404);
    const again = await purgePayloads(deps, new Date(Date.now() + 86_400_000), false);
    assert.equal(again.objects_deleted, 0, 'a second run finds nothing left to delete');
  });
});
