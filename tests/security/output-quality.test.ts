import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { isWardenError } from '../../src/errors.ts';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import fc from 'fast-check';
import { checkOutput, markOwnValues, type OutputCheck, type OutputCheckOptions } from '../../src/jobs/output-quality.ts';
import { normalize } from '../../src/jobs/prompt-text.ts';
import { renderPrompt } from '../../src/jobs/prompt-template.ts';
import { TemplateCatalog } from '../../src/runtime/prompts/template-catalog.ts';
import { generateContent } from '../../src/stack/sim-llm/completion.ts';
import { promptDigest } from '../../src/stack/sim-tags.ts';

const templates = new TemplateCatalog(resolve('config/prompts'));

function render(request: GenerationRequest) {
  const messages = renderPrompt(templates.get(request.prompt_version), request);
  return { messages, prompt: messages.map((m) => m.content).join('\n') };
}

function request(inputs: Record<string, string>, extra: Partial<GenerationRequest> = {}): GenerationRequest {
  return { base_id: 'appA', table_id: 'tblA', record_id: 'rec1', field_id: 'fldSummary', prompt_version: 'summary-v1', inputs, ...extra };
}

/** What the simulated LLM answers to this request: text plus its ⟦gen:…|in:…⟧ marker. */
function simAnswer(req: GenerationRequest): { text: string; prompt: string } {
  const { messages, prompt } = render(req);
  const chat = { model: 'sim-1', messages } as never;
  return { text: generateContent(chat, promptDigest(messages)), prompt };
}

const base = (prompt: string, extra: Partial<OutputCheckOptions> = {}): OutputCheckOptions => ({ maxLength: 10_000, format: 'text', prompt, ...extra });

function code(result: OutputCheck): string {
  return result.ok ? 'ok' : result.code;
}

describe('checkOutput', () => {
  it('passes the simulated LLM outputs, marker included, for demo-like records', () => {
    const words = 'customer renewal invoice meeting priority shipment contract feedback budget roadmap onboarding quarterly'.split(' ');
    for (let i = 0; i < 50; i += 1) {
      const notes = Array.from({ length: 12 }, (_, j) => words[(i * 7 + j * 5) % words.length]).join(' ');
      const inputs = { fldNotes: notes, fldTitle: `Account ${i}` };
      const req = request(inputs, i % 3 === 0 ? { context: `extra context ${'lorem ipsum '.repeat(i)}` } : {});
      const { text, prompt } = simAnswer(req);
      assert.match(text, /⟦gen:[0-9a-f]{16}\|in:/);
      const ownValues = [...Object.values(inputs), ...(req.context ? [req.context] : [])];
      assert.deepEqual(checkOutput(text, base(prompt, { ownValues })), { ok: true }, text);
    }
    const short = simAnswer(request({ fldNotes: 'notes of rec1', fldTitle: 'title 1' }));
    assert.deepEqual(checkOutput(short.text, base(short.prompt)), { ok: true });
  });

  it('refuses empty and whitespace-only outputs', () => {
    for (const text of ['', '   ', '\n\t \u00a0']) assert.equal(code(checkOutput(text, base('p'))), 'empty_output');
  });

  it('counts length in characters (code points), not UTF-16 units or bytes', () => {
    assert.equal(code(checkOutput('abcde', base('p', { maxLength: 5 }))), 'ok');
    assert.equal(code(checkOutput('abcdef', base('p', { maxLength: 5 }))), 'output_too_long');
    assert.equal(code(checkOutput('💡💡💡💡💡', base('p', { maxLength: 5 }))), 'ok');
    assert.equal(code(checkOutput('💡💡💡💡💡💡', base('p', { maxLength: 5 }))), 'output_too_long');
    assert.equal(code(checkOutput('ééééé', base('p', { maxLength: 5 }))), 'ok');
  });

  it('refuses lone surrogates, U+FFFD from a broken decode, and invalid UTF-8 bytes', () => {
    assert.equal(code(checkOutput('half \ud83d of an emoji', base('p'))), 'invalid_utf8');
    assert.equal(code(checkOutput('trailing \udca1', base('p'))), 'invalid_utf8');
    assert.equal(code(checkOutput(Buffer.from([0x61, 0xc3, 0x28]).toString('utf8'), base('p'))), 'invalid_utf8');
    assert.equal(code(checkOutput(Buffer.from([0x61, 0xc3, 0x28]), base('p'))), 'invalid_utf8');
    assert.equal(code(checkOutput(Buffer.from([0xed, 0xa0, 0x80]), base('p'))), 'invalid_utf8');
    assert.equal(code(checkOutput(Buffer.from('fine ✓ 💡', 'utf8'), base('p'))), 'ok');
    assert.equal(code(checkOutput('a whole emoji 💡 is fine', base('p'))), 'ok');
  });

  it('refuses an echo: a 200-character verbatim span, or half the output copied from the prompt', () => {
    const instructions = 'You write concise, factual summaries of records in a business database. Never invent facts. ';
    const prompt = `${instructions}Summarize record rec1 for field fldSummary in at most two sentences.\n${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8)}`;
    // The whole prompt back.
    assert.equal(code(checkOutput(prompt, base(prompt))), 'prompt_echo');
    // 200+ characters of it inside an otherwise original answer.
    const long = `Here you go. ${prompt.slice(100, 320)} And some words of our own that are original enough, really, truly.`;
    assert.equal(code(checkOutput(long, base(prompt))), 'prompt_echo');
    // The instructions, short, as most of the answer.
    assert.equal(code(checkOutput(`Sure! ${instructions}`, base(prompt))), 'prompt_echo');
    // Whitespace reflowed is still an echo.
    assert.equal(code(checkOutput(instructions.replaceAll(' ', '\n  '), base(prompt))), 'prompt_echo');
    // A short answer drawn from the prompt (a name, a phrase) is an answer.
    assert.equal(code(checkOutput('Summarize record rec1', base(prompt))), 'ok');
    // A 60-char quote inside a 200-char original answer is under both limits.
    const quote = `The record is about a database. ${instructions.slice(0, 60)} Otherwise it talks about things in its own words, which is how a summary should read overall.`;
    assert.equal(code(checkOutput(quote, base(prompt))), 'ok');
  });

  it('lets an output quote the record\'s own values (ownValues), but not at 200+ characters', () => {
    const notes = 'customer renewal invoice meeting priority shipment contract feedback budget roadmap onboarding quarterly';
    const prompt = `Summarize record rec1 in two sentences.\n<inputs>{"fldNotes":${JSON.stringify(notes)}}</inputs>`;
    const summary = `Summary of ${notes}.`;
    assert.equal(code(checkOutput(summary, base(prompt))), 'prompt_echo');
    assert.equal(code(checkOutput(summary, base(prompt, { ownValues: [notes] }))), 'ok');
    const longNotes = `${notes} `.repeat(3);
    const longPrompt = `Summarize record rec1.\n<inputs>{"fldNotes":${JSON.stringify(longNotes)}}</inputs>`;
    assert.equal(code(checkOutput(`Summary: ${longNotes}`, base(longPrompt, { ownValues: [longNotes] }))), 'prompt_echo');
    // JSON-escaped values in the prompt are recognized too.
    const quoted = 'She said "renew the contract" and then\nleft the meeting early on Tuesday';
    const escapedPrompt = `Summarize.\n<inputs>{"fldNotes":${JSON.stringify(quoted)}}</inputs>`;
    assert.equal(code(checkOutput(`Notes: ${quoted}`, base(escapedPrompt, { ownValues: [quoted] }))), 'ok');
  });

  it('refuses another record\'s data, case-insensitively, without naming it', () => {
    const others = ['jane.doe@example.com', 'Acme Rocket Skates', 'ok'];
    const result = checkOutput('Contact JANE.DOE@example.com about skates.', base('Summarize rec1.', { otherRecordValues: others }));
    assert.equal(code(result), 'foreign_data');
    assert.ok(!result.ok && !result.message.toLowerCase().includes('jane'), 'the value must not be in the message');
    // Too short to mean anything, or given to this job in its own prompt: fine.
    assert.equal(code(checkOutput('ok, done', base('Summarize rec1.', { otherRecordValues: others }))), 'ok');
    assert.equal(code(checkOutput('Acme Rocket Skates renewed.', base('Notes: Acme Rocket Skates renewal', { otherRecordValues: others }))), 'ok');
  });

  it('parses JSON fields and validates them against the schema', () => {
    const schema = { type: 'object', required: ['summary'], properties: { summary: { type: 'string', maxLength: 50 } }, additionalProperties: false };
    const json = (text: string) => code(checkOutput(text, base('p', { format: 'json', jsonSchema: schema })));
    assert.equal(json('{"summary":"fine"}'), 'ok');
    assert.equal(json('{"summary": 5}'), 'invalid_json');
    assert.equal(json('{"summary":"x","extra":1}'), 'invalid_json');
    assert.equal(json('{"summary":"fine"'), 'invalid_json');
    assert.equal(json('not json at all'), 'invalid_json');
    assert.equal(code(checkOutput('[1,2]', base('p', { format: 'json' }))), 'ok');
    const bad = checkOutput('{"summary":"PII-SECRET-VALUE is here and too long for the schema limit of fifty"}', base('p', { format: 'json', jsonSchema: schema }));
    assert.ok(!bad.ok && !bad.message.includes('PII-SECRET'), 'schema errors do not quote the value');
    // The simulated marker is text: a JSON field with it appended is not JSON.
    assert.equal(code(checkOutput('{"summary":"x"} ⟦gen:0123456789abcdef|in:fldA:0123456789abcdef⟧', base('p', { format: 'json' }))), 'invalid_json');
  });

  it('refuses bad options with a ValidationError naming the field', () => {
    const bad: Array<[Partial<OutputCheckOptions>, string]> = [
      [{ maxLength: 0 }, 'maxLength'],
      [{ format: 'xml' as never }, 'format'],
      [{ prompt: undefined as never }, 'prompt'],
      [{ otherRecordValues: [1] as never }, 'otherRecordValues'],
      [{ echo: { maxCopiedRatio: 2 } }, 'maxCopiedRatio'],
      [{ format: 'json', jsonSchema: { type: 'nonsense' } }, 'jsonSchema'],
    ];
    for (const [override, field] of bad) {
      assert.throws(
        () => checkOutput('x', { ...base('p'), ...override }),
        (e: unknown) => isWardenError(e) && e.code === 'invalid_output_options' && e.message.includes(field),
      );
    }
  });

  it('checks a 64 KB prompt against a 100,000-character output both ways', () => {
    const prompt = Array.from({ length: 9000 }, (_, i) => `w${(i * 7919) % 10007}`).join(' ');
    const output = Array.from({ length: 14000 }, (_, i) => `o${(i * 104729) % 100003}`).join(' ').slice(0, 100_000);
    assert.equal(code(checkOutput(output, base(prompt, { maxLength: 100_000 }))), 'ok');
    const echoed = `${prompt.slice(0, 50_000)}`;
    assert.equal(code(checkOutput(echoed, base(prompt, { maxLength: 100_000 }))), 'prompt_echo');
  });
});

describe('markOwnValues', () => {
  it('finds the values a prompt lacks (in any case) as lower-casing the whole prompt would, final sigma included', () => {
    const slow = (prompt: string, values: string[]) => {
      const lower = normalize(prompt).toLowerCase();
      return [...new Set(values.map((value) => normalize(value).toLowerCase()))].filter((value) => !lower.includes(value));
    };
    const text = fc.array(fc.constantFrom('Σ', 'σ', 'ς', 'Α', 'α', 'İ', 'i', 'K', 'k', ' ', '\n', '"', 'ab'), { maxLength: 24 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.array(text, { maxLength: 4 }), (prompt, values) => {
        assert.deepEqual(markOwnValues(prompt, values).absent, slow(prompt, values));
      }),
      { numRuns: 3000 },
    );
    // A value ending in Σ lower-cases to a final ς alone, to σ mid-word in the prompt.
    assert.deepEqual(markOwnValues('ΑΣΒ', ['ΑΣ']).absent, ['ας']);
  });
});
