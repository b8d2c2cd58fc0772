import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startSimLlm, type SimLlm } from '../../src/stack/sim-llm/index.ts';
import { inputsTag, parseMarker, promptDigest, renderInputsBlock } from '../../src/stack/sim-tags.ts';
import { call, chatBody } from './sim-client.ts';

let sim: SimLlm;
let authed: SimLlm;

before(async () => {
  sim = await startSimLlm({ timeScale: 0.001, timeoutRate: 0, seed: 11 });
  authed = await startSimLlm({ timeScale: 0.001, timeoutRate: 0, apiKey: 'sk-sim-secret', models: ['gpt-4o-mini'] });
});
after(async () => {
  await sim.close();
  await authed.close();
  await sim.close(); // idempotent
});

test('200 answer has the chat.completion shape, usage and a marker naming prompt and inputs', async () => {
  const inputs = { fldTitle: 'Quarterly results were strong', fldNotes: 'Revenue up 12% on new customers' };
  const body = chatBody(`Summarise the record.\n${renderInputsBlock(inputs)}`);
  const res = await call(`${sim.url}/v1/chat/completions`, 'POST', body);
  assert.equal(res.status, 200);
  const c = res.body;
  assert.match(c.id, /^chatcmpl-/);
  assert.equal(c.object, 'chat.completion');
  assert.equal(typeof c.created, 'number');
  assert.equal(c.model, 'gpt-4o-mini');
  assert.equal(c.choices.length, 1);
  assert.equal(c.choices[0].index, 0);
  assert.equal(c.choices[0].finish_reason, 'stop');
  assert.equal(c.choices[0].message.role, 'assistant');
  const content: string = c.choices[0].message.content;
  assert.match(content, /^Summary of /);
  const marker = parseMarker(content);
  assert.ok(marker);
  assert.equal(marker.promptDigest, promptDigest(body.messages));
  assert.deepEqual(marker.fieldIds, ['fldNotes', 'fldTitle']);
  assert.equal(`${marker.fieldIds.join(',')}:${marker.inputsDigest}`, inputsTag(inputs));
  const promptChars = body.messages.reduce((n, m) => n + m.content.length, 0);
  assert.equal(c.usage.prompt_tokens, Math.ceil(promptChars / 4));
  assert.equal(c.usage.completion_tokens, Math.ceil(content.length / 4));
  assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
});

test('same prompt twice is a duplicate call; a different prompt is not', async () => {
  sim.reset();
  const a = chatBody('duplicate me please');
  await call(`${sim.url}/v1/chat/completions`, 'POST', a);
  const second = await call(`${sim.url}/v1/chat/completions`, 'POST', a);
  await call(`${sim.url}/v1/chat/completions`, 'POST', chatBody('something else'));
  assert.equal(second.status, 200);
  const s = sim.stats();
  assert.equal(s.calls, 3);
  assert.equal(s.completed, 3);
  assert.equal(s.distinctPrompts, 2);
  assert.equal(s.duplicateCalls, 1);
  assert.equal(s.duplicateCompletions, 1);
  assert.deepEqual(s.duplicateDigests, [promptDigest(a.messages)]);
  assert.equal(sim.callsFor(promptDigest(a.messages)), 2);
  assert.equal(s.byStatus['200'], 3);
  assert.equal(s.inFlight, 0);
  assert.equal(s.latenciesMs.count, 3);
  const viaHttp = await call(`${sim.url}/__sim/stats`, 'GET');
  assert.equal(viaHttp.body.duplicateCalls, 1);
  await call(`${sim.url}/__sim/reset`, 'POST');
  assert.equal(sim.stats().calls, 0);
  assert.equal(sim.stats().duplicateCalls, 0);
});

test('invalid requests get 400 with the OpenAI error shape and do not count as prompts', async () => {
  sim.reset();
  const url = `${sim.url}/v1/chat/completions`;
  const cases: Array<[unknown, string | null]> = [
    [{ messages: [{ role: 'user', content: 'x' }] }, 'model'],
    [{ model: 'm', messages: 'hi' }, 'messages'],
    [{ model: 'm', messages: [] }, 'messages'],
    [{ model: 'm', messages: [{ role: 'robot', content: 'x' }] }, 'messages.[0].role'],
    [{ model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages.[0].content'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }, 'stream'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 7 }, 'temperature'],
    ['{not json', null],
  ];
  for (const [body, param] of cases) {
    const res = await call(url, 'POST', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.body.error.type, 'invalid_request_error');
    assert.equal(typeof res.body.error.message, 'string');
    assert.equal(res.body.error.param, param);
    assert.ok('code' in res.body.error);
  }
  const s = sim.stats();
  assert.equal(s.calls, cases.length);
  assert.equal(s.byStatus['400'], cases.length);
  assert.equal(s.distinctPrompts, 0);
});

test('auth: 401 without or with a wrong key, 200 with the right one; unknown model 404', async () => {
  const url = `${authed.url}/v1/chat/completions`;
  const none = await call(url, 'POST', chatBody('hi'));
  assert.equal(none.status, 401);
  assert.equal(none.body.error.type, 'invalid_request_error');
  const wrong = await call(url, 'POST', chatBody('hi'), { authorization: 'Bearer nope' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, 'invalid_api_key');
  const ok = await call(url, 'POST', chatBody('hi'), { authorization: 'Bearer sk-sim-secret' });
  assert.equal(ok.status, 200);
  const badModel = await call(url, 'POST', chatBody('hi', { model: 'gpt-unknown' }), { authorization: 'Bearer sk-sim-secret' });
  assert.equal(badModel.status, 404);
  assert.equal(badModel.body.error.code, 'model_not_found');
  assert.equal(authed.stats().distinctPrompts, 1);
});

test('the official request shape, sent with undici as the OpenAI API expects it', async () => {
  const res = await request(`${authed.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: 'Bearer sk-sim-secret',
      'user-agent': 'warden-test',
    },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'developer', content: 'You are concise.' },
        { role: 'user', content: [{ type: 'text', text: 'Describe <inputs>{"fldA":"a red bicycle"}</inputs>' }] },
        { role: 'assistant', content: null, tool_calls: [] },
        { role: 'user', content: 'Shorter, please.' },
      ],
      temperature: 0.2,
      max_tokens: 128,
      n: 1,
      stream: false,
      user: 'rec123',
    }),
  });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /application\/json/);
  const json = (await res.body.json()) as any;
  assert.equal(json.object, 'chat.completion');
  const marker = parseMarker(json.choices[0].message.content);
  assert.deepEqual(marker?.fieldIds, ['fldA']);
  const models = await request(`${authed.url}/v1/models`);
  assert.equal(models.statusCode, 200);
  assert.deepEqual(((await models.body.json()) as any).data.map((m: { id: string }) => m.id), ['gpt-4o-mini']);
});

test('options are checked at start with the field named', async () => {
  await assert.rejects(startSimLlm({ timeScale: 0 }), /simLlm\.timeScale/);
  await assert.rejects(startSimLlm({ p50Ms: 10, p95Ms: 5 }), /simLlm\.p95Ms/);
  await assert.rejects(startSimLlm({ faults: { rate429: 2 } }), /simLlm\.faults\.rate429/);
  await assert.rejects(startSimLlm({ faults: { forceStatus: 200 } }), /forceStatus/);
  await assert.rejects(startSimLlm({ port: -1 }), /simLlm\.port/);
});
