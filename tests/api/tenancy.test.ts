import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sealResult } from '../../src/runtime/crypto/job-sealing.ts';
import { seedRequest, startHarness, TEST_TENANT, type Harness } from '../support/harness.ts';
import { checkedClient } from './openapi-check.ts';

let h: Harness;
let api: ReturnType<typeof checkedClient>;
before(async () => {
  h = await startHarness({ supervise: false });
  api = checkedClient(h);
});
after(async () => {
  await h.stop();
});

const A = 'appTenantA';
const B = 'appTenantB';

async function submit(tenant: string): Promise<string> {
  const response = await api.post(seedRequest(h, { base_id: tenant }), { as: tenant });
  assert.equal(response.status, 202, JSON.stringify(response.body));
  return response.body.id as string;
}

/** Gives a queued job a memoized (sealed) result, as a worker would. */
async function giveResult(id: string, text: string): Promise<void> {
  const writer = { actor: 'test-owner', token: 1 };
  await h.runtime.checkpoints.transition(id, { event: 'start', from: 'queued', writer });
  const result = { text: await sealResult(h.runtime.cipher, id, text), model: 'sim-1', prompt_tokens: 3, completion_tokens: 4, generated_at: new Date().toISOString() };
  await h.runtime.checkpoints.transition(id, { event: 'generate', from: 'running', writer, patch: { result } });
}

/** Every page of a listing, following next_cursor. */
async function listAll(query: string, as: string, limit: number): Promise<{ ids: string[]; pages: number; createdAt: string[] }> {
  const ids: string[] = [];
  const createdAt: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = query ? '&' : '';
    const response = await api.get(`/v1/jobs?${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { as });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.ok(response.body.jobs.length <= limit);
    for (const job of response.body.jobs) {
      ids.push(job.id);
      createdAt.push(job.created_at);
      assert.equal(job.base_id, as, 'only the caller\'s jobs');
    }
    cursor = response.body.next_cursor;
    pages += 1;
    assert.ok(pages < 50, 'paging does not end');
  } while (cursor);
  return { ids, pages, createdAt };
}

describe('tenant isolation', () => {
  it('answers another tenant\'s job id with 404, exactly like a missing job, on get, cancel and result', async () => {
    const id = await submit(A);
    const missing = 'f'.repeat(64);
    for (const path of [`/v1/jobs/${id}`, `/v1/jobs/${id}/result`]) {
      const theirs = await api.get(path, { as: B });
      assert.equal(theirs.status, 404);
      assert.equal(theirs.body.code, 'not_found');
      assert.equal(theirs.body.message, `no job ${id}`);
    }
    const cancelTheirs = await api.del(`/v1/jobs/${id}`, { as: B });
    assert.equal(cancelTheirs.status, 404);
    assert.equal(cancelTheirs.body.message, `no job ${id}`);
    assert.equal((await h.runtime.checkpoints.get(id))?.state, 'queued', 'not cancelled by another tenant');
    const none = await api.get(`/v1/jobs/${missing}`, { as: B });
    assert.deepEqual({ ...none.body, trace_id: '' }, { code: 'not_found', message: `no job ${missing}`, trace_id: '' });
    assert.equal((await api.del(`/v1/jobs/${missing}`, { as: B })).status, 404);
    // The API key's tenant (appTest) is another tenant too.
    assert.equal((await api.get(`/v1/jobs/${id}`, { as: TEST_TENANT })).status, 404);
    assert.equal((await api.get(`/v1/jobs/${id}`, { as: A })).status, 200);
  });

  it('serves a result only to its tenant, and logs every read in the access log', async () => {
    const id = await submit(A);
    const early = await api.get(`/v1/jobs/${id}/result`, { as: A });
    assert.equal(early.status, 404);
    assert.match(early.body.message, /no result yet \(status queued\)/);
    await giveResult(id, 'the generated summary');
    const theirs = await api.get(`/v1/jobs/${id}/result`, { as: B });
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.message, `no job ${id}`);
    assert.deepEqual(await h.runtime.accessLog.listForJob(id), [], 'a refused read is not a read');
    const mine = await api.get(`/v1/jobs/${id}/result`, { as: A });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.text, 'the generated summary', 'decrypted by the injected reader');
    assert.equal(mine.body.status, 'generated');
    const view = await api.get(`/v1/jobs/${id}`, { as: A });
    assert.equal(view.body.result_ref, `/v1/jobs/${id}/result`);
    const entries = await h.runtime.accessLog.listForJob(id);
    assert.equal(entries.length, 1);
    assert.deepEqual({ ...entries[0], at: '' }, { who: `jwt:svc-${A}`, tenant: A, jobId: id, purpose: 'api_result', at: '' });
    // Cancel is too late now; the message names the current status.
    const late = await api.del(`/v1/jobs/${id}`, { as: A });
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'too_late_to_cancel');
    assert.match(late.body.message, /is generated/);
  });

  it('lists only the caller\'s jobs, newest first, and pages with limit 10 without duplicates or gaps', async () => {
    const mine: string[] = [];
    const theirs: string[] = [];
    const tenants = { appListA: mine, appListB: theirs } as const;
    for (let i = 0; i < 25; i += 1) {
      const tenant = i % 2 === 0 ? 'appListA' : 'appListB';
      tenants[tenant].push(await submit(tenant));
    }
    const a = await listAll('', 'appListA', 10);
    assert.equal(a.ids.length, 13);
    assert.equal(new Set(a.ids).size, 13, 'no duplicates');
    assert.deepEqual([...a.ids].sort(), [...mine].sort(), 'no gaps, nothing of the other tenant');
    assert.deepEqual(a.createdAt, [...a.createdAt].sort().reverse(), 'newest first');
    assert.ok(a.pages >= 2);
    const b = await listAll('', 'appListB', 10);
    assert.deepEqual([...b.ids].sort(), [...theirs].sort());
    // Defaults: 20 per page.
    const first = await api.get('/v1/jobs', { as: 'appListA' });
    assert.equal(first.body.jobs.length, 13);
    assert.equal(first.body.next_cursor, null);
  });

  it('filters by status (comma separated or repeated) and by creation time', async () => {
    const tenant = 'appFilter';
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      ids.push(await submit(tenant));
      if (i % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const cancelled = ids.filter((_, i) => i % 3 === 0);
    for (const id of cancelled) assert.equal((await api.del(`/v1/jobs/${id}`, { as: tenant })).status, 200);
    const onlyCancelled = await listAll('status=cancelled', tenant, 3);
    assert.deepEqual([...onlyCancelled.ids].sort(), [...cancelled].sort());
    const queued = await listAll('status=queued', tenant, 3);
    assert.deepEqual([...queued.ids].sort(), ids.filter((id) => !cancelled.includes(id)).sort());
    assert.equal(new Set(queued.ids).size, queued.ids.length);
    assert.equal((await listAll('status=queued,cancelled', tenant, 5)).ids.length, 12);
    assert.equal((await listAll('status=queued&status=cancelled', tenant, 100)).ids.length, 12);
    assert.equal((await listAll('status=succeeded', tenant, 10)).ids.length, 0);

    const all = await api.get('/v1/jobs?limit=100', { as: tenant });
    const created = (all.body.jobs as Array<{ id: string; created_at: string }>).map((j) => ({ id: j.id, at: j.created_at }));
    const pivot = [...created].sort((x, y) => (x.at < y.at ? -1 : 1))[5]?.at as string;
    const expectAfter = created.filter((j) => j.at > pivot).map((j) => j.id).sort();
    const expectBefore = created.filter((j) => j.at < pivot).map((j) => j.id).sort();
    assert.ok(expectAfter.length > 0 && expectBefore.length > 0);
    assert.deepEqual([...(await listAll(`created_after=${pivot}`, tenant, 4)).ids].sort(), expectAfter);
    assert.deepEqual([...(await listAll(`created_before=${pivot}`, tenant, 4)).ids].sort(), expectBefore);
    const oldest = created.map((j) => j.at).sort()[0] as string;
    const newest = created.map((j) => j.at).sort().at(-1) as string;
    const between = created.filter((j) => j.at > oldest && j.at < newest).map((j) => j.id).sort();
    assert.deepEqual([...(await listAll(`created_after=${oldest}&created_before=${newest}&status=queued,cancelled`, tenant, 4)).ids].sort(), between);
    // An offset is honoured: the same instant in +02:00.
    const shifted = new Date(Date.parse(pivot) + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    assert.deepEqual([...(await listAll(`created_after=${encodeURIComponent(shifted)}`, tenant, 50)).ids].sort(), expectAfter);
    assert.equal((await api.get('/v1/jobs?created_after=2000-01-01', { as: tenant })).body.jobs.length, 12);
    assert.equal((await api.get('/v1/jobs?created_before=2000-01-02T00:00:00Z', { as: tenant })).body.jobs.length, 0);
  });

  it('refuses bad query parameters with 400 invalid_query', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1&limit=2', 'status=bogus', 'status=', 'created_after=yesterday', 'created_after=2025-02-30', 'created_after=2025-01-01T10:00:00', 'created_before=1999-12-31', 'created_after=2025-01-02&created_before=2025-01-01', 'colour=red', 'base_id=not%20a%20base']) {
      const response = await api.get(`/v1/jobs?${query}`, { as: A });
      assert.equal(response.status, 400, query);
      assert.equal(response.body.code, 'invalid_query', query);
    }
  });

  it('refuses a forged cursor, another tenant\'s cursor and a cursor for other filters with 400 invalid_cursor', async () => {
    for (let i = 0; i < 3; i += 1) await submit('appCursorA');
    await submit('appCursorB');
    const page = await api.get('/v1/jobs?limit=1', { as: 'appCursorA' });
    const cursor = page.body.next_cursor as string;
    assert.ok(cursor);
    assert.equal((await api.get(`/v1/jobs?limit=1&cursor=${cursor}`, { as: 'appCursorA' })).status, 200);

    const other = await api.get(`/v1/jobs?limit=1&cursor=${cursor}`, { as: 'appCursorB' });
    assert.equal(other.status, 400);
    assert.equal(other.body.code, 'invalid_cursor');

    // Rewrite the start key inside to point at tenant B (the JSON is readable, the tag is not forgeable).
    const raw = Buffer.from(cursor, 'base64url');
    const body = JSON.parse(raw.subarray(32).toString('utf8'));
    const forgedBody = Buffer.from(JSON.stringify({ ...body, k: { ...body.k, tenant: 'appCursorB' } }));
    const forged = Buffer.concat([raw.subarray(0, 32), forgedBody]).toString('base64url');
    for (const bad of [forged, `${cursor.slice(0, -2)}AA`, 'AAAA', 'not-base64!', 'x'.repeat(3000), Buffer.from('{}').toString('base64url')]) {
      for (const as of ['appCursorA', 'appCursorB']) {
        const response = await api.get(`/v1/jobs?limit=1&cursor=${encodeURIComponent(bad)}`, { as });
        assert.equal(response.status, 400, `${as} ${bad.slice(0, 20)}`);
        assert.equal(response.body.code, 'invalid_cursor');
      }
    }
    const otherFilter = await api.get(`/v1/jobs?limit=1&status=queued&cursor=${cursor}`, { as: 'appCursorA' });
    assert.equal(otherFilter.status, 400);
    assert.equal(otherFilter.body.code, 'invalid_cursor');
    assert.match(otherFilter.body.message, /other filters/);
  });
});
