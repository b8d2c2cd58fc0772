import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimLlm, type SimLlm } from '../../src/stack/sim-llm/index.ts';
import { startSimRecordStore, type SimRecordStore } from '../../src/stack/sim-record-store/index.ts';
import { renderInputsBlock, type InputValues } from '../../src/stack/sim-tags.ts';
import { call, chatBody } from './sim-client.ts';

let llm: SimLlm;
let store: SimRecordStore;
before(async () => {
  llm = await startSimLlm({ timeScale: 0.001, timeoutRate: 0 });
  store = await startSimRecordStore();
});
after(async () => {
  await Promise.all([llm.close(), store.close()]);
});

async function generateAndWrite(recordId: string, editBetween?: Record<string, unknown>) {
  const got = await call(`${store.url}/v0/app/tbl/${recordId}`, 'GET');
  const inputs: InputValues = { fldName: got.body.fields.fldName as string };
  const completion = await call(`${llm.url}/v1/chat/completions`, 'POST', chatBody(`Describe.\n${renderInputsBlock(inputs)}`));
  if (editBetween) store.editRecord('app', 'tbl', recordId, editBetween);
  const version = store.getRecord('app', 'tbl', recordId)?.version;
  return call(`${store.url}/v0/app/tbl/${recordId}`, 'PATCH',
    { fields: { fldOut: completion.body.choices[0].message.content } }, { 'if-match': `"${version}"` });
}

test('LLM output written back is judged at the store: clean, then stale after a user edit', async () => {
  store.putRecord('app', 'tbl', 'recA', { fldName: 'Ada Lovelace' });
  store.putRecord('app', 'tbl', 'recB', { fldName: 'Alan Turing' });
  assert.equal((await generateAndWrite('recA')).status, 200);
  assert.equal((await generateAndWrite('recB', { fldName: 'Grace Hopper' })).status, 200);
  const s = store.stats();
  assert.equal(s.writebacks, 2);
  assert.equal(s.staleWritebacks, 1);
  assert.equal(s.duplicateWritebacks, 0);
  assert.equal(llm.stats().duplicateCalls, 0);
  assert.equal(llm.stats().promptsWithoutInputs, 0);
});
