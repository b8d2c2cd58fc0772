import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { OpenAiChatProvider } from '../../src/runtime/llm/openai-chat-provider.ts';
import { startSimLlm, type SimLlm } from '../../src/stack/sim-llm/index.ts';
import { parseMarker } from '../../src/stack/sim-tags.ts';

/**
 * The official `openai` client is the reference for the Chat Completions protocol: it must agree
 * with the simulator (so local runs mean something), and warden's adapter must send what it
 * sends and read what it reads (so the runtime works unchanged against a real endpoint).
 */
let sim: SimLlm;
let capture: Server;
let captureUrl: string;
const seen: Array<{ headers: IncomingMessage['headers']; body: any }> = [];
const canned = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-test',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A short summary.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 },
};

before(async () => {
  sim = await startSimLlm({ timeScale: 0.001, timeoutRate: 0, apiKey: 'sk-test' });
  capture = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(canned));
    });
  });
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
  captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
});
after(async () => {
  await sim.close();
  await new Promise((resolve) => capture.close(resolve));
});

const messages = [
  { role: 'system' as const, content: 'You summarize records.' },
  { role: 'user' as const, content: 'Summarize record rec1.\n<inputs>{"fldNotes":"call Bob"}</inputs>' },
];

describe('the Chat Completions protocol, checked against the official openai client', () => {
  it('the official client talks to the simulated LLM: content, usage and the exactly-once marker', async () => {
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'sim-1', messages, max_tokens: 50 });
    const content = completion.choices[0]?.message.content ?? '';
    assert.ok(content.length > 0);
    assert.ok(parseMarker(content), 'the simulator tags its answer');
    assert.ok((completion.usage?.prompt_tokens ?? 0) > 0 && (completion.usage?.completion_tokens ?? 0) > 0);
    await assert.rejects(new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'wrong', maxRetries: 0 }).chat.completions.create({ model: 'sim-1', messages }), (error: unknown) => error instanceof OpenAI.AuthenticationError);
  });

  it('warden sends what the official client sends, and reads the same answer from it', async () => {
    seen.length = 0;
    const official = await new OpenAI({ baseURL: `${captureUrl}/v1`, apiKey: 'sk-test', maxRetries: 0 }).chat.completions.create({ model: 'gpt-test', messages, max_tokens: 50 });
    const provider = new OpenAiChatProvider({ name: 'openai', baseUrl: captureUrl, apiKey: 'sk-test', model: 'gpt-test', connections: 4, connectTimeoutMs: 1000, firstByteTimeoutMs: 5000 });
    try {
      const ours = await provider.complete({ messages, maxTokens: 50, timeoutMs: 5000 });
      // Messages encoded once on a worker thread make the same request as the messages themselves.
      const encoded = await provider.complete({ messages: { json: new TextEncoder().encode(JSON.stringify(messages)) }, maxTokens: 50, timeoutMs: 5000 });
      const [fromOfficial, fromWarden, fromEncoded] = seen;
      assert.deepEqual(fromWarden?.body, fromOfficial?.body, 'same request body');
      assert.deepEqual(fromEncoded?.body, fromOfficial?.body, 'same request body from encoded messages');
      assert.equal(encoded.text, ours.text);
      assert.equal(fromWarden?.headers['authorization'], fromOfficial?.headers['authorization']);
      assert.match(String(fromWarden?.headers['content-type']), /^application\/json/);
      assert.equal(ours.text, official.choices[0]?.message.content);
      assert.equal(ours.promptTokens, official.usage?.prompt_tokens);
      assert.equal(ours.completionTokens, official.usage?.completion_tokens);
      assert.equal(ours.model, official.model);
    } finally {
      await provider.close();
    }
  });
});
