import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkOutput } from '../../src/jobs/output-quality.ts';
import { renderPrompt } from '../../src/jobs/prompt-template.ts';
import { CpuPool } from '../../src/runtime/cpu/cpu-pool.ts';
import { runCpuTask } from '../../src/runtime/cpu/cpu-tasks.ts';
import { decodeMessages } from '../../src/runtime/llm-provider.ts';
import { TemplateCatalog } from '../../src/runtime/prompts/template-catalog.ts';

const templates = new TemplateCatalog(resolve('config/prompts'));
const template = templates.get('summary-v1');
const context = 'The renewal was agreed on Tuesday after the invoice dispute was settled by the account team. '.repeat(40);
const request = { base_id: 'appA', table_id: 'tblA', record_id: 'rec1', field_id: 'fldSummary', prompt_version: 'summary-v1', inputs: { fldNotes: 'customer asked about the quarterly invoice and the roadmap' }, context };

describe('CpuPool', () => {
  const threaded = new CpuPool({ threads: 1, maxQueue: 100 });
  const inline = new CpuPool({ threads: 0, maxQueue: 100 });
  after(() => Promise.all([threaded.close(), inline.close()]));

  it('prepares the same prompt, estimate and own-value marks on a worker thread as inline', async () => {
    const expected = runCpuTask({ kind: 'prepare', template, request });
    // The encoded messages are the rendered prompt's JSON, byte for byte.
    assert.deepEqual(decodeMessages(expected.messages), renderPrompt(template, request));
    assert.deepEqual(await threaded.prepare({ kind: 'prepare', template, request }), expected);
    assert.deepEqual(await inline.prepare({ kind: 'prepare', template, request }), expected);
    assert.ok(expected.ownMarks.ranges.length >= 2, 'the context is located in the prompt');
  });

  it('renders a context handed over as bytes as it renders the same context as a string', async () => {
    const expected = runCpuTask({ kind: 'prepare', template, request });
    const { context: text, ...withoutContext } = request;
    const standalone = new Uint8Array(Buffer.from(text, 'utf8'));
    assert.deepEqual(await threaded.prepare({ kind: 'prepare', template, request: withoutContext, contextBytes: standalone }), expected);
    assert.equal(standalone.byteLength, 0, 'a buffer of its own is moved to the worker, not copied');
    // A view of a larger buffer (a pooled Buffer) is copied: moving it would detach its neighbours.
    const shared = Buffer.alloc(text.length + 32, 0x20);
    shared.write(text, 16, 'utf8');
    const view = shared.subarray(16, 16 + text.length);
    assert.deepEqual(await threaded.prepare({ kind: 'prepare', template, request: withoutContext, contextBytes: view }), expected);
    assert.equal(shared.toString('utf8', 16, 16 + text.length), text, 'the shared buffer is intact');
    assert.deepEqual(await inline.prepare({ kind: 'prepare', template, request: withoutContext, contextBytes: Buffer.from(text) }), expected);
  });

  it('gives the data-quality verdicts of checkOutput on a worker thread', async () => {
    const prepared = runCpuTask({ kind: 'prepare', template, request });
    const messages = decodeMessages(prepared.messages);
    const options = { maxLength: 10_000, format: 'text' as const, ownMarks: prepared.ownMarks };
    const full = { ...options, prompt: messages.map((m) => m.content) };
    const instructions = messages[0]?.content ?? '';
    const answers = ['The renewal was agreed after the invoice dispute; the roadmap comes next quarter.', instructions.slice(0, 260), '', context.slice(0, 150)];
    for (const text of answers) {
      assert.deepEqual(await threaded.check(text, options, prepared.messages), checkOutput(text, full), `verdict for ${JSON.stringify(text.slice(0, 40))}`);
      assert.deepEqual(await inline.check(text, options, prepared.messages), checkOutput(text, full));
    }
    assert.equal(checkOutput(answers[0] as string, full).ok, true);
    assert.equal((checkOutput(answers[2] as string, full) as { code: string }).code, 'empty_output');
  });

  it('stops a task whose job was aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const messages = runCpuTask({ kind: 'prepare', template, request }).messages;
    await assert.rejects(threaded.check('text', { maxLength: 10, format: 'text' }, messages, controller.signal), (error: Error) => error.name === 'AbortError');
  });

  it('an abort mid-task fails only that job: the thread and the other jobs\' tasks carry on', async () => {
    const expected = runCpuTask({ kind: 'prepare', template, request });
    const controller = new AbortController();
    const doomed = threaded.prepare({ kind: 'prepare', template, request }, controller.signal);
    const others = Array.from({ length: 8 }, () => threaded.prepare({ kind: 'prepare', template, request }, new AbortController().signal));
    controller.abort();
    await assert.rejects(doomed, (error: Error) => error.name === 'AbortError');
    for (const result of await Promise.all(others)) assert.deepEqual(result, expected);
    assert.deepEqual(await threaded.prepare({ kind: 'prepare', template, request }), expected);
  });

  it('lowers the worker threads\' priority, never the event loop\'s', { skip: process.platform !== 'linux' && 'nice values per thread are Linux' }, async () => {
    const niceOf = (tid: string) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    };
    const before = new Set(readdirSync('/proc/self/task'));
    const niced = new CpuPool({ threads: 1, maxQueue: 10, niceness: 7 });
    try {
      await niced.prepare({ kind: 'prepare', template, request });
      const fresh = readdirSync('/proc/self/task').filter((tid) => !before.has(tid)).map(niceOf);
      assert.ok(fresh.includes(7), `a new thread runs at niceness 7 (new threads: ${fresh.join(', ')})`);
      assert.equal(niceOf(String(process.pid)), 0, 'the event loop keeps its priority');
    } finally {
      await niced.close();
    }
  });

  it('refuses a niceness outside 0-19', () => {
    assert.throws(() => new CpuPool({ threads: 0, maxQueue: 10, niceness: 20 }), RangeError);
    assert.throws(() => new CpuPool({ threads: 0, maxQueue: 10, niceness: -1 }), RangeError);
  });
});
