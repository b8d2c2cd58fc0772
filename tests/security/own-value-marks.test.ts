import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkOutput, markOwnValues, type OutputCheck } from '../../src/jobs/output-quality.ts';
import { echoCoverage } from '../../src/jobs/prompt-echo.ts';
import { indexOfLong, jsonEscaped, LONG_VALUE_CHARS, normalize } from '../../src/jobs/prompt-text.ts';

/**
 * The shortcuts of the echo check against their definitions written the obvious way: a long
 * value's normalized form put in place of it in the normalized prompt, values looked for only
 * between those already taken, and an output shorter than an echo span checked against the
 * prompt with its own values cut out. Each must give what the definition gives, to the message.
 */
const obviousNormalize = (text: string) => text.replace(/\s+/g, ' ').trim();
const obviousEscaped = (value: string) => (/["\\\u0000-\u001f\ud800-\udfff]/.test(value) ? JSON.stringify(value).slice(1, -1) : value);

function obviousForms(values: string[]): string[] {
  return values
    .flatMap((value) => [...new Set([obviousNormalize(value), obviousNormalize(obviousEscaped(value))])])
    .filter((form) => form.length >= 8)
    .sort((a, b) => b.length - a.length);
}

/** Each form's occurrences leftmost first, longest form first, none overlapping one taken. */
function obviousRanges(prompt: string, values: string[]): number[] {
  const taken: Array<[number, number]> = [];
  for (const form of obviousForms(values)) {
    for (let at = prompt.indexOf(form); at !== -1; at = prompt.indexOf(form, at + 1)) {
      const end = at + form.length;
      if (!taken.some(([start, stop]) => start < end && stop > at)) taken.push([at, end]);
    }
  }
  return taken.sort((a, b) => a[0] - b[0]).flat();
}

function obviousMarks(parts: string[], values: string[]) {
  const prompt = obviousNormalize(parts.join('\n'));
  const lower = prompt.toLowerCase();
  const absent = [...new Set(values.map((value) => obviousNormalize(value).toLowerCase()))].filter((value) => !lower.includes(value));
  return { ranges: obviousRanges(prompt, values), absent };
}

/** The own-value pairs the echo rule sets apart: those of at least 16 (or windowChars) characters. */
const longPairs = (own: number[], k: number) => own.flatMap((start, i) => (i % 2 === 0 && (own[i + 1] as number) - start >= Math.min(16, k) ? [start, own[i + 1] as number] : []));

/** `checkOutput`'s verdict and message from the output characters covered and copied. */
function echoVerdict(covered: Uint8Array, copied: Uint8Array, maxSpan: number, maxRatio: number): OutputCheck {
  let longest = 0;
  for (let i = 0, run = 0; i < covered.length; i += 1) longest = Math.max(longest, (run = covered[i] ? run + 1 : 0));
  if (longest >= maxSpan) return { ok: false, code: 'prompt_echo', message: `output repeats ${longest} consecutive characters of its prompt (limit ${maxSpan - 1})` };
  const ratio = copied.reduce((sum, mark) => sum + mark, 0) / covered.length;
  if (ratio < maxRatio) return { ok: true };
  return { ok: false, code: 'prompt_echo', message: `${Math.round(ratio * 100)}% of the output is copied from its prompt (limit ${Math.round(maxRatio * 100)}%)` };
}

/** `checkOutput`'s echo rule and messages, every window looked for at every position. */
function obviousCheck(text: string, parts: string[], own: number[], k: number, maxSpan: number, maxRatio: number): OutputCheck {
  const output = obviousNormalize(text);
  const prompt = obviousNormalize(parts.join('\n'));
  if (output.length < k) return { ok: true };
  const pairs = longPairs(own, k);
  const outsideOwn = (at: number) => pairs.every((start, i) => i % 2 === 1 || !(start < at + k && (pairs[i + 1] as number) > at));
  const covered = new Uint8Array(output.length);
  const copied = new Uint8Array(output.length);
  for (let start = 0; start + k <= output.length; start += 1) {
    const window = output.slice(start, start + k);
    for (let at = prompt.indexOf(window); at !== -1; at = prompt.indexOf(window, at + 1)) {
      covered.fill(1, start, start + k);
      if (outsideOwn(at)) copied.fill(1, start, start + k);
    }
  }
  return echoVerdict(covered, copied, maxSpan, maxRatio);
}

/** The echo rule as the full scan decides it, for marks of any shape (`own` as given). */
function fullScanCheck(text: string, parts: string[], own: number[], k: number, maxSpan: number, maxRatio: number): OutputCheck {
  const output = obviousNormalize(text);
  if (output.length < k) return { ok: true };
  const pairs = longPairs(own, k);
  const { covered, copied } = echoCoverage(output, parts, k, pairs);
  return echoVerdict(covered, copied, maxSpan, maxRatio);
}

// Few distinct words, so values repeat in the prompt, overlap and sit next to each other.
const word = fc.constantFrom('alpha', 'beta', 'renewal', 'aaaa', 'a', '"q"', 'x\n', '  ', '\t', 'é', 'Σ', '\u00a0', '\\');
const phrase = (maxLength: number) => fc.array(word, { maxLength }).map((words) => words.join(' '));
// Past LONG_VALUE_CHARS, where a value is located by its head and placed whole.
const longValue = fc.tuple(phrase(6), fc.constantFrom('', ' ', '\n', 'b'), fc.constantFrom('', ' ', 'b')).map(([seed, head, tail]) => `${head}${(seed || 'aaaa').repeat(Math.ceil(LONG_VALUE_CHARS / Math.max(1, seed.length)) + 1)}${tail}`);

const promptWith = fc.tuple(phrase(12), phrase(12), longValue, fc.array(phrase(4), { maxLength: 3 }), fc.integer({ min: 0, max: 3 }), phrase(8)).map(([system, lead, context, inputs, copies, tail]) => {
  // The context once or more, whole or cut short, after the inputs as a template renders them;
  // then the lead and inputs again, so values lie on both sides of it.
  const contexts = Array.from({ length: copies }, (_, i) => (i === 2 ? context.slice(3) : context)).join('\n');
  const user = `${lead}\nRecord inputs:\n${JSON.stringify(inputs)}\n${contexts}\n${tail} ${lead} ${inputs.join(' ')}`;
  return { parts: [system, user], values: [...inputs, lead, context] };
});

describe('own-value marks and the echo check, against their definitions', () => {
  it('normalizes and JSON-escapes as the plain regexes do', () => {
    const text = fc.array(fc.constantFrom('a', 'Z', ' ', '  ', '\n', '\t', '\r\n', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u0001', '"', '\\', '\ud800', '😀', 'é'), { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (value) => {
        assert.equal(normalize(value), obviousNormalize(value));
        assert.equal(jsonEscaped(value), obviousEscaped(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('finds a long value where indexOf does', () => {
    fc.assert(
      fc.property(promptWith, fc.nat(), ({ parts, values }, from) => {
        const text = parts.join('\n');
        const context = values[values.length - 1] as string;
        const start = from % (text.length + 1);
        assert.equal(indexOfLong(text, context, start), text.indexOf(context, start));
      }),
      { numRuns: 200 },
    );
  });

  it('marks own values as the leftmost-first, longest-first definition does', () => {
    fc.assert(
      fc.property(promptWith, ({ parts, values }) => {
        assert.deepEqual(markOwnValues(parts, values), obviousMarks(parts, values));
        assert.deepEqual(markOwnValues(parts.join('\n'), values), obviousMarks(parts, values));
      }),
      { numRuns: 200 },
    );
  });

  it('gives the verdict and message of the definition, for outputs shorter and longer than an echo span', () => {
    const echo = { windowChars: 8, maxSpanChars: 24, maxCopiedRatio: 0.5 };
    fc.assert(
      fc.property(promptWith, phrase(6), fc.array(fc.nat(), { maxLength: 3 }), fc.integer({ min: 8, max: 30 }), ({ parts, values }, fresh, cuts, length) => {
        const prompt = obviousNormalize(parts.join('\n'));
        // New words and slices of the prompt: of the instructions, of the inputs, of the context.
        const slices = cuts.map((cut) => prompt.slice(cut % prompt.length, (cut % prompt.length) + length));
        const output = [fresh, ...slices].join(' ');
        const marks = markOwnValues(parts, values);
        const expected = obviousCheck(output, parts, marks.ranges, echo.windowChars, echo.maxSpanChars, echo.maxCopiedRatio);
        const options = { maxLength: 10_000, format: 'text' as const, echo, prompt: parts };
        if (obviousNormalize(output) === '') return;
        assert.deepEqual(checkOutput(output, { ...options, ownMarks: marks }), expected);
        assert.deepEqual(checkOutput(output, { ...options, ownValues: values }), expected);
      }),
      { numRuns: 300 },
    );
  });

  it('gives what the full scan gives for marks of any shape: out of order, overlapping, past the end', () => {
    const echo = { windowChars: 8, maxSpanChars: 24, maxCopiedRatio: 0.5 };
    const pair = fc.tuple(fc.integer({ min: -20, max: 300 }), fc.integer({ min: 0, max: 200 })).map(([start, length]) => [start, start + length]);
    fc.assert(
      fc.property(phrase(20), phrase(20), fc.array(pair, { maxLength: 4 }), fc.nat(), fc.integer({ min: 8, max: 30 }), (system, user, pairs, cut, length) => {
        const prompt = obviousNormalize(`${system}\n${user}`);
        const output = `${prompt.slice(cut % (prompt.length + 1), (cut % (prompt.length + 1)) + length)} beta`;
        if (obviousNormalize(output) === '') return;
        const ranges = pairs.flat();
        const options = { maxLength: 10_000, format: 'text' as const, echo, prompt: [system, user], ownMarks: { ranges, absent: [] } };
        assert.deepEqual(checkOutput(output, options), fullScanCheck(output, [system, user], ranges, echo.windowChars, echo.maxSpanChars, echo.maxCopiedRatio));
      }),
      { numRuns: 1000 },
    );
  });
});
