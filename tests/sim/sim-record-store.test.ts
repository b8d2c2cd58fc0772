import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimRecordStore, type SimRecordStore } from '../../src/stack/sim-record-store/index.ts';
import { formatMarker } from '../../src/stack/sim-tags.ts';
import { call } from './sim-client.ts';

let store: SimRecordStore;
before(async () => {
  store = await startSimRecordStore();
});
after(async () => {
  await store.close();
  await store.close();
});

const recUrl = (r: string) => `${store.url}/v0/appBase/tblMain/${r}`;
const seed = (r: string, fields: Record<string, unknown>) => call(`${store.url}/__sim/records/appBase/tblMain/${r}`, 'PUT', { fields });
const edit = (r: string, fields: Record<string, unknown>) => call(`${store.url}/__sim/records/appBase/tblMain/${r}/edit`, 'POST', { fields });
const patch = (r: string, version: string | null, fields: Record<string, unknown>) =>
  call(recUrl(r), 'PATCH', { fields }, version === null ? {} : { 'if-match': `"${version}"` });
const generated = (digest: string, inputs: Record<string, string | null>) => `Summary of things.${formatMarker(digest, inputs)}`;

test('GET, PATCH with If-Match, ETag follows the version', async () => {
  const seeded = await seed('rec1', { fldIn: 'hello' });
  assert.equal(seeded.status, 200);
  const got = await call(recUrl('rec1'), 'GET');
  assert.equal(got.status, 200);
  assert.deepEqual(Object.keys(got.body).sort(), ['fields', 'id', 'version']);
  assert.equal(got.body.id, 'rec1');
  assert.deepEqual(got.body.fields, { fldIn: 'hello' });
  assert.equal(typeof got.body.version, 'string');
  assert.equal(got.headers.get('etag'), `"${got.body.version}"`);
  const patched = await patch('rec1', got.body.version, { fldOut: 'plain text' });
  assert.equal(patched.status, 200);
  assert.notEqual(patched.body.version, got.body.version);
  assert.equal(patched.headers.get('etag'), `"${patched.body.version}"`);
  assert.deepEqual(patched.body.fields, { fldIn: 'hello', fldOut: 'plain text' });
  assert.deepEqual(store.getRecord('appBase', 'tblMain', 'rec1')?.fields, { fldIn: 'hello', fldOut: 'plain text' });
});

test('412 when the version moved, 428 without If-Match, 404 when absent, 400 when malformed', async () => {
  store.reset();
  await seed('rec2', { fldIn: 'a' });
  const v1 = (await call(recUrl('rec2'), 'GET')).body.version as string;
  await edit('rec2', { fldIn: 'b' });
  const moved = await patch('rec2', v1, { fldOut: 'x' });
  assert.equal(moved.status, 412);
  assert.equal(moved.body.error.code, 'PRECONDITION_FAILED');
  assert.equal(moved.body.version, store.getRecord('appBase', 'tblMain', 'rec2')?.version);
  const noIfMatch = await patch('rec2', null, { fldOut: 'x' });
  assert.equal(noIfMatch.status, 428);
  const missing = await call(recUrl('nope'), 'GET');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'NOT_FOUND');
  assert.equal((await patch('nope', '1', { fldOut: 'x' })).status, 404);
  assert.equal((await call(recUrl('rec2'), 'PATCH', { notFields: 1 }, { 'if-match': `"${v1}"` })).status, 400);
  assert.equal((await call(recUrl('rec2'), 'PATCH', { fields: { a: 1 } }, { 'if-match': v1 })).status, 400); // unquoted
  assert.equal((await call(recUrl('rec2'), 'PATCH', { fields: { a: 1 } }, { 'if-match': `W/"${v1}"` })).status, 412);
  const s = store.stats();
  assert.equal(s.conflicts412, 2);
  assert.equal(s.notFound404, 2);
  assert.equal(s.preconditionRequired428, 1);
  assert.equal(s.patches, 6);
  assert.equal(s.patchesApplied, 0);
  assert.equal(store.getRecord('appBase', 'tblMain', 'rec2')?.fields.fldOut, undefined);
});

test('a write-back after its input field was edited is counted stale (and still applied)', async () => {
  store.reset();
  await seed('rec3', { fldIn: 'original', fldOther: 'o' });
  const value = generated('aaaaaaaaaaaaaaaa', { fldIn: 'original' });
  const edited = await edit('rec3', { fldIn: 'edited by a user' });
  const res = await patch('rec3', edited.body.version, { fldOut: value });
  assert.equal(res.status, 200);
  const s = store.stats();
  assert.equal(s.writebacks, 1);
  assert.equal(s.staleWritebacks, 1);
  assert.deepEqual(s.staleDigests, ['aaaaaaaaaaaaaaaa']);
  assert.equal(s.duplicateWritebacks, 0);
  assert.equal(store.getRecord('appBase', 'tblMain', 'rec3')?.fields.fldOut, value);
});

test('a write-back after an edit of other fields only is not stale', async () => {
  store.reset();
  await seed('rec4', { fldIn: 'same', fldOther: 'o' });
  const edited = await edit('rec4', { fldOther: 'changed' });
  const res = await patch('rec4', edited.body.version, { fldOut: generated('bbbbbbbbbbbbbbbb', { fldIn: 'same' }) });
  assert.equal(res.status, 200);
  assert.equal(store.stats().writebacks, 1);
  assert.equal(store.stats().staleWritebacks, 0);
});

test('the same generation written twice is a duplicate write-back, even to another record', async () => {
  store.reset();
  const value = generated('cccccccccccccccc', { fldIn: 'v' });
  const r5 = await seed('rec5', { fldIn: 'v' });
  const r6 = await seed('rec6', { fldIn: 'v' });
  const first = await patch('rec5', r5.body.version, { fldOut: value });
  await patch('rec5', first.body.version, { fldOut: value });
  await patch('rec6', r6.body.version, { fldOut: value });
  const s = store.stats();
  assert.equal(s.writebacks, 3);
  assert.equal(s.duplicateWritebacks, 2);
  assert.deepEqual(s.duplicateDigests, ['cccccccccccccccc', 'cccccccccccccccc']);
  assert.equal(s.staleWritebacks, 0);
  const viaHttp = await call(`${store.url}/__sim/stats`, 'GET');
  assert.equal(viaHttp.body.duplicateWritebacks, 2);
  assert.equal(typeof viaHttp.body.records, 'number');
});

test('delete via /v0 and via admin; reset can clear records', async () => {
  await seed('rec7', { a: 1 });
  assert.equal((await call(recUrl('rec7'), 'DELETE')).status, 200);
  assert.equal((await call(recUrl('rec7'), 'GET')).status, 404);
  await seed('rec8', { a: 1 });
  assert.equal((await call(`${store.url}/__sim/records/appBase/tblMain/rec8`, 'DELETE')).status, 200);
  assert.equal(store.getRecord('appBase', 'tblMain', 'rec8'), null);
  await call(`${store.url}/__sim/reset`, 'POST', { records: true });
  assert.equal(store.stats().records, 0);
  assert.equal(store.stats().gets, 0);
});

test('bearer token required when configured; close() during latency does not hang', async () => {
  const guarded = await startSimRecordStore({ token: 'tok', latencyMs: 60000 });
  guarded.putRecord('b', 't', 'r', { a: 1 });
  const unauth = await call(`${guarded.url}/v0/b/t/r`, 'GET');
  assert.equal(unauth.status, 401);
  const pending = call(`${guarded.url}/v0/b/t/r`, 'GET', undefined, { authorization: 'Bearer tok' });
  await new Promise((r) => setTimeout(r, 20));
  await guarded.close();
  await assert.rejects(pending);
  await assert.rejects(startSimRecordStore({ latencyMs: -1 }), /simRecordStore\.latencyMs/);
});
