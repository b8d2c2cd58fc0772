import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkOutput, markOwnValues, type OutputCheck } from '../../src/jobs/output-quality.ts';

/**
 * The echo rule written the slow, obvious way: every output window looked up with `includes`,
 * own values cut out of the prompt with split/join. The one-pass scan must give the same verdict
 * whether the prompt comes joined or as message contents, with own values or with their marks.
 */
const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

function coveredBy(output: string, source: string, k: number): Uint8Array {
  const covered = new Uint8Array(output.length);
  for (let start = 0; start + k <= output.length; start += 1) {
    if (source.includes(output.slice(start, start + k))) covered.fill(1, start, start + k);
  }
  return covered;
}

function obviousEcho(text: string, prompt: string, ownValues: string[], k: number, maxSpan: number, maxRatio: number): boolean {
  const output = normalize(text);
  const source = normalize(prompt);
  if (output.length < k) return false;
  let longest = 0;
  let run = 0;
  for (const mark of coveredBy(output, source, k)) {
    run = mark ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  if (longest >= maxSpan) return true;
  const forms = ownValues
    .flatMap((value) => [normalize(value), normalize(JSON.stringify(value).slice(1, -1))])
    .filter((form) => form.length >= Math.min(16, k))
    .sort((a, b) => b.length - a.length);
  let instructions = source;
  for (const form of forms) instructions = instructions.split(form).join('\u0000');
  const copied = coveredBy(output, instructions, k).reduce((sum, mark) => sum + mark, 0);
  return copied / output.length >= maxRatio;
}

const verdict = (result: OutputCheck) => (result.ok ? 'ok' : result.code);

// Few distinct words, so prompts repeat themselves and outputs copy spans of them by chance.
const word = fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'renewal', 'invoice', '"q"', 'x\n', '  ', 'é');
const phrase = fc.array(word, { minLength: 0, maxLength: 40 }).map((words) => words.join(' '));

describe('prompt echo: one pass over the message contents', () => {
  it('agrees with the obvious rule, joined or in parts, with own values or their marks', () => {
    const echo = { windowChars: 8, maxSpanChars: 24, maxCopiedRatio: 0.5 };
    fc.assert(
      fc.property(phrase, phrase, phrase, fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 4 }), (system, user, fresh, cuts) => {
        const prompt = `${system}\n${user}`;
        // An output mixing new words with slices of the prompt; own values are slices too.
        const slices = cuts.map((cut, i) => prompt.slice(cut % (prompt.length + 1), (cut % (prompt.length + 1)) + 10 + i * 7));
        const output = [fresh, ...slices].join(' ');
        const ownValues = slices.filter((_, i) => i % 2 === 0);
        const expected = obviousEcho(output, prompt, ownValues, echo.windowChars, echo.maxSpanChars, echo.maxCopiedRatio);
        const options = { maxLength: 10_000, format: 'text' as const, echo };
        const joined = verdict(checkOutput(output, { ...options, prompt, ownValues }));
        const parts = [system, user];
        const marked = verdict(checkOutput(output, { ...options, prompt: parts, ownMarks: markOwnValues(parts, ownValues) }));
        if (normalize(output).length === 0) return;
        assert.equal(joined === 'prompt_echo', expected, `joined: ${joined} for ${JSON.stringify({ output, prompt, ownValues })}`);
        assert.equal(marked, joined, `marks: ${marked}, values: ${joined}`);
      }),
      { numRuns: 400 },
    );
  });

  it('finds an echo that crosses from one message into the next', () => {
    const system = 'You write short product summaries for the catalogue team.';
    const user = 'Summarize the record below in two sentences and keep the tone neutral.';
    const output = `${system.slice(20)} ${user.slice(0, 60)}`;
    assert.equal(verdict(checkOutput(output, { maxLength: 1000, format: 'text', prompt: [system, user] })), 'prompt_echo');
    assert.equal(verdict(checkOutput(output, { maxLength: 1000, format: 'text', prompt: `${system}\n${user}` })), 'prompt_echo');
  });

  it('refuses marks given together with own values, and malformed marks', () => {
    const base = { maxLength: 100, format: 'text' as const, prompt: ['p'] };
    assert.throws(() => checkOutput('x', { ...base, ownValues: ['v'], ownMarks: { ranges: [], absent: [] } }), /ownMarks replaces options.ownValues/);
    assert.throws(() => checkOutput('x', { ...base, ownMarks: { ranges: [1], absent: [] } }), /ownMarks.ranges must be integer pairs/);
    assert.throws(() => checkOutput('x', { ...base, prompt: ['a', 3] as never }), /options.prompt must be a string or an array of strings/);
  });
});
