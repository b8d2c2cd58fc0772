import { startLocalStack } from '/work/main/src/stack/local-stack.ts';
import { createRuntime } from '/work/main/src/runtime/runtime-context.ts';
import { Supervisor } from '/work/main/src/supervisor/supervisor.ts';
import { IngestApi } from '/work/main/src/ingest/http/http-api.ts';
const t0 = Date.now();
const stack = await startLocalStack({ partitions: 2, timeScale: 0.01, timeoutRate: 0 });
console.log('stack up', Date.now() - t0);
const rt = await createRuntime(stack.config);
const sup = new Supervisor(rt, { partitions: [0, 1] });
await sup.start();
const api = new IngestApi({ checkpoints: rt.checkpoints, payloads: rt.payloads, queueFor: (p) => rt.queueFor(p), promptExists: (v) => rt.templates.has(v), partitions: 2, clock: rt.clock, metrics: rt.metrics, resendAfterMs: 60000 }, rt.log);
const url = await api.listen(0, '127.0.0.1');
stack.records.putRecord('app1', 'tbl1', 'rec1', { fldNotes: 'Call Bob on Monday', fldTitle: 'Bob' });
const req = { base_id: 'app1', table_id: 'tbl1', record_id: 'rec1', field_id: 'fldSummary', prompt_version: 'summary-v1', inputs: { fldNotes: 'Call Bob on Monday', fldTitle: 'Bob' }, context: 'hello ctx' };
const r = await fetch(`${url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(req) });
const body = await r.json() as any; console.log(r.status, body);
for (let i = 0; i < 50; i++) {
  const s = await (await fetch(`${url}/v1/jobs/${body.id}`)).json() as any;
  if (['succeeded','superseded','failed','dead_lettered'].includes(s.status)) { console.log(s); break; }
  await new Promise(r => setTimeout(r, 200));
}
console.log(stack.llm.stats(), stack.records.stats(), stack.records.getRecord('app1','tbl1','rec1'));
await sup.stop(1000); await api.close(); await rt.close(); await stack.stop();
console.log('done', Date.now() - t0);
