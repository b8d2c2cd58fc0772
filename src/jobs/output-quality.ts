import { Ajv, type ValidateFunction } from 'ajv';
import { ValidationError } from '../errors.ts';
import { locateForms, ownValueForms, ownValueRanges, rangesAtLeast, withoutOwnValues } from './own-value-ranges.ts';
import { DEFAULT_ECHO_THRESHOLDS, echoCoverage, type EchoThresholds } from './prompt-echo.ts';
import { LONG_VALUE_CHARS, normalize, normalizedPrompt, normalizedPromptAround } from './prompt-text.ts';

export { DEFAULT_ECHO_THRESHOLDS, type EchoThresholds } from './prompt-echo.ts';

/**
 * The data-quality gate every LLM output passes before a write-back. Pure (no I/O, no clock), so
 * it can run on a worker thread. A failure names a stable code and says what is wrong without
 * quoting the output: the output may hold personal data, and the message ends up in the job item
 * and in logs.
 */

export type OutputFormat = 'text' | 'json';

export type OutputCheckCode = 'empty_output' | 'output_too_long' | 'invalid_utf8' | 'prompt_echo' | 'foreign_data' | 'invalid_json';

export type OutputCheck = { ok: true } | { ok: false; code: OutputCheckCode; message: string };

export interface OutputCheckOptions {
  /** The field's limit, in characters (Unicode code points). */
  maxLength: number;
  format: OutputFormat;
  /** For `format: 'json'`: the JSON Schema the parsed output must satisfy. */
  jsonSchema?: object;
  /**
   * The rendered prompt the output answers: its text (system and user messages joined by
   * newlines), or the messages' contents, read as joined. Passing the contents spares a copy.
   */
  prompt: string | readonly string[];
  /** Values of other records that must not appear in this output (case-insensitive). */
  otherRecordValues?: string[];
  /**
   * This record's own values the prompt carries (input values, prompt context). The output may
   * quote them: copies of them count toward the 200-character span rule, not toward the ratio.
   * A summary of a short note is often mostly the note; an answer that is mostly the
   * instructions is an echo.
   */
  ownValues?: string[];
  /** `ownValues` located in this prompt once by `markOwnValues`; given instead of `ownValues`. */
  ownMarks?: OwnValueMarks;
  echo?: Partial<EchoThresholds>;
  /** Other records' values shorter than this are too common to mean a leak. Default 6. */
  foreignMinChars?: number;
}

/**
 * A record's own values as the checks need them, computed once when the prompt is rendered (on
 * a worker thread), so a job waiting for its answer keeps no copy of the values themselves.
 */
export interface OwnValueMarks {
  /** Where own values lie in the normalized prompt: sorted, disjoint [start, end) pairs, flat. */
  ranges: number[];
  /** Own values (normalized, lower case) the prompt does not contain: they are not another record's data either. */
  absent: string[];
}

/** Locates `ownValues` in `prompt` for `OutputCheckOptions.ownMarks`. */
export function markOwnValues(prompt: string | readonly string[], ownValues: readonly string[]): OwnValueMarks {
  // Each value normalized once (a 64 KB context is one of them), for both uses; the longest one's
  // normalized form also stands in for it in the normalized prompt.
  const forms = ownValueForms(ownValues);
  const longest = longestValue(ownValues);
  const parts = typeof prompt === 'string' ? [prompt] : prompt;
  const { text, placed } = longest === -1 ? { text: normalizedPrompt(parts), placed: false } : normalizedPromptAround(parts, ownValues[longest] as string, (forms[longest] as { plain: string }).plain);
  const { ranges, found } = locateForms(text, forms);
  let lower: string | undefined;
  const absent = new Set<string>();
  for (let i = 0; i < forms.length; i += 1) {
    const { plain } = forms[i] as { plain: string };
    // A value found as it is is found lower-cased too: lower-casing maps character by character,
    // but for the final sigma, whose form depends on what follows. Most values (the context
    // among them) are in the prompt as they are, so neither 64 KB string is lower-cased, and
    // one placed or found already is not looked for again.
    if (!plain.includes(CAPITAL_SIGMA) && ((placed && i === longest) || found.has(plain) || text.includes(plain))) continue;
    const value = plain.toLowerCase();
    lower ??= text.toLowerCase();
    if (!lower.includes(value)) absent.add(value);
  }
  return { ranges, absent: [...absent] };
}

/** The index of the longest value of at least LONG_VALUE_CHARS characters, or -1. */
function longestValue(values: readonly string[]): number {
  let longest = -1;
  for (let i = 0; i < values.length; i += 1) {
    const length = (values[i] as string).length;
    if (length >= LONG_VALUE_CHARS && (longest === -1 || length > (values[longest] as string).length)) longest = i;
  }
  return longest;
}

const CAPITAL_SIGMA = '\u03a3';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const REPLACEMENT_CHARACTER = '\uFFFD';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function fail(code: OutputCheckCode, message: string): OutputCheck {
  return { ok: false, code, message };
}

function codePoints(text: string, stopAfter: number): number {
  // Code points never outnumber code units: most outputs are decided without counting.
  if (text.length <= stopAfter) return text.length;
  let count = 0;
  for (const _ of text) {
    count += 1;
    if (count > stopAfter) break;
  }
  return count;
}

/**
 * Checks one output. In order: valid UTF-8 (no lone surrogate, no U+FFFD left by a broken decode;
 * bytes are decoded strictly), not empty after trimming, at most `maxLength` code points, for
 * JSON fields parseable and schema-valid, no prompt echo, no other record's data.
 *
 * Prompt echo, with whitespace runs collapsed on both sides: a "copied span" is a maximal run of
 * the output every character of which lies in some window of `windowChars` (40) characters that
 * occurs verbatim in the prompt. The output is an echo when one copied span reaches
 * `maxSpanChars` (200) characters, or when copied spans, not counting copies of `ownValues`,
 * cover at least `maxCopiedRatio` (50%) of it. An output shorter than the window is never an
 * echo: a short answer drawn from the prompt (a name, a date) is an answer.
 *
 * Throws ValidationError `invalid_output_options` for bad options (a config error, not an output).
 */
export function checkOutput(output: string | Uint8Array, options: OutputCheckOptions): OutputCheck {
  const opts = checkOptions(options);
  let text: string;
  if (typeof output === 'string') {
    if (LONE_SURROGATE.test(output)) return fail('invalid_utf8', 'output contains a lone UTF-16 surrogate (not encodable as UTF-8)');
    text = output;
  } else if (output instanceof Uint8Array) {
    try {
      text = strictUtf8.decode(output);
    } catch {
      return fail('invalid_utf8', 'output bytes are not valid UTF-8');
    }
  } else {
    throw new ValidationError('invalid_output_options', 'checkOutput: output must be a string or bytes');
  }
  if (text.includes(REPLACEMENT_CHARACTER)) {
    return fail('invalid_utf8', 'output contains U+FFFD replacement characters (a broken decode upstream)');
  }
  if (text.trim() === '') return fail('empty_output', 'output is empty');
  const length = codePoints(text, opts.maxLength);
  if (length > opts.maxLength) return fail('output_too_long', `output exceeds the field's ${opts.maxLength} characters`);
  if (opts.format === 'json') {
    const json = checkJson(text, opts.jsonSchema);
    if (!json.ok) return json;
  }
  // The normalized prompt, built once if at all: a 64 KB prompt costs a scan.
  let normalized: string | undefined;
  const prompt = () => (normalized ??= normalizedPrompt(opts.prompt));
  const echo = findEcho(text, opts, prompt);
  if (echo) return echo;
  return checkForeign(text, opts, prompt);
}

interface ResolvedOptions {
  maxLength: number;
  format: OutputFormat;
  jsonSchema: object | undefined;
  prompt: readonly string[];
  otherRecordValues: string[];
  ownValues: string[];
  ownMarks: OwnValueMarks | undefined;
  echo: EchoThresholds;
  foreignMinChars: number;
}

function optionError(message: string): ValidationError {
  return new ValidationError('invalid_output_options', `checkOutput: ${message}`);
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw optionError(`options.${field} must be an array of strings`);
  return value as string[];
}

function checkOptions(options: OutputCheckOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw optionError('options must be an object');
  const { maxLength, format, jsonSchema, prompt } = options;
  if (!Number.isInteger(maxLength) || maxLength < 1) throw optionError('options.maxLength must be a positive integer');
  if (format !== 'text' && format !== 'json') throw optionError("options.format must be 'text' or 'json'");
  if (jsonSchema !== undefined && (jsonSchema === null || typeof jsonSchema !== 'object')) throw optionError('options.jsonSchema must be an object');
  // Compiled (once per schema object) before any output is looked at: a broken schema is a
  // configuration error whatever the output.
  if (jsonSchema !== undefined) validatorFor(jsonSchema);
  if (typeof prompt !== 'string' && !(Array.isArray(prompt) && prompt.every((part) => typeof part === 'string'))) {
    throw optionError('options.prompt must be a string or an array of strings');
  }
  const { ownMarks } = options;
  if (ownMarks !== undefined) {
    if (options.ownValues !== undefined) throw optionError('options.ownMarks replaces options.ownValues: give one of them');
    const ranges = ownMarks?.ranges;
    if (!Array.isArray(ranges) || ranges.length % 2 !== 0 || ranges.some((v) => !Number.isInteger(v))) throw optionError('options.ownMarks.ranges must be integer pairs');
    stringList(ownMarks.absent, 'ownMarks.absent');
  }
  const echo = { ...DEFAULT_ECHO_THRESHOLDS, ...options.echo };
  if (!Number.isInteger(echo.windowChars) || echo.windowChars < 8) throw optionError('options.echo.windowChars must be an integer >= 8');
  if (!Number.isInteger(echo.maxSpanChars) || echo.maxSpanChars < echo.windowChars) throw optionError('options.echo.maxSpanChars must be an integer >= windowChars');
  if (typeof echo.maxCopiedRatio !== 'number' || !(echo.maxCopiedRatio > 0 && echo.maxCopiedRatio <= 1)) throw optionError('options.echo.maxCopiedRatio must be in (0, 1]');
  const foreignMinChars = options.foreignMinChars ?? 6;
  if (!Number.isInteger(foreignMinChars) || foreignMinChars < 1) throw optionError('options.foreignMinChars must be a positive integer');
  return {
    maxLength,
    format,
    jsonSchema,
    prompt: typeof prompt === 'string' ? [prompt] : prompt,
    otherRecordValues: stringList(options.otherRecordValues, 'otherRecordValues'),
    ownValues: stringList(options.ownValues, 'ownValues'),
    ownMarks,
    echo,
    foreignMinChars,
  };
}

// JSON Schemas come from field configuration: compile each distinct schema once. Keyed by its
// text, not its object: a caller that parses the schema per job would otherwise compile per job,
// and Ajv keeps every schema object it compiled. strict: false because such schemas carry
// annotations (title, examples, format) that strict mode refuses.
const MAX_SCHEMAS = 256;
let ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  const text = JSON.stringify(schema);
  let validate = compiled.get(text);
  if (!validate) {
    if (compiled.size >= MAX_SCHEMAS) {
      // More distinct schemas than any deployment has fields: start over rather than grow.
      compiled.clear();
      ajv = new Ajv({ allErrors: false, strict: false });
    }
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw optionError(`options.jsonSchema does not compile: ${(error as Error).message}`);
    }
    compiled.set(text, validate);
  }
  return validate;
}

function checkJson(text: string, schema: object | undefined): OutputCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return fail('invalid_json', 'output is not valid JSON');
  }
  if (schema === undefined) return { ok: true };
  const validate = validatorFor(schema);
  if (validate(value)) return { ok: true };
  const first = validate.errors?.[0];
  // Where and which rule, never the offending value.
  const where = first?.instancePath ? first.instancePath : '(root)';
  return fail('invalid_json', `output does not match the field's JSON schema: ${where} ${first?.message ?? 'is invalid'}`);
}

function findEcho(text: string, opts: ResolvedOptions, prompt: () => string): OutputCheck | undefined {
  const { windowChars, maxSpanChars, maxCopiedRatio } = opts.echo;
  const output = normalize(text);
  // Too short to be a copy: the prompt is not read at all.
  if (output.length < windowChars) return undefined;
  // Longest first, so a value containing another is set apart whole. Short values stay: removing
  // every "1" or "yes" would shred the instructions and hide a real echo of them.
  const ranges = opts.ownMarks?.ranges ?? (opts.ownValues.length > 0 ? ownValueRanges(prompt(), opts.ownValues) : []);
  const own = rangesAtLeast(ranges, Math.min(16, windowChars));
  let copied: Uint8Array;
  if (output.length < maxSpanChars && own.length > 0 && orderedPairs(own)) {
    // Shorter than a span that is an echo, so only copies from outside own values decide: those
    // are in the prompt with its own values cut out, a few hundred characters when the context
    // is most of it, not the 64 KB a full scan reads.
    copied = echoCoverage(output, [withoutOwnValues(prompt(), own)], windowChars, []).covered;
  } else {
    const coverage = echoCoverage(output, opts.prompt, windowChars, own);
    let longest = 0;
    let run = 0;
    for (const mark of coverage.covered) {
      run = mark ? run + 1 : 0;
      if (run > longest) longest = run;
    }
    if (longest >= maxSpanChars) {
      return fail('prompt_echo', `output repeats ${longest} consecutive characters of its prompt (limit ${maxSpanChars - 1})`);
    }
    if (longest === 0) return undefined;
    copied = coverage.copied;
    // The instructions are the prompt with each own value cut out and a U+0000 in its place: only
    // an output holding U+0000 itself can match a window across such a cut, so only then is the
    // cut prompt built and read again.
    if (own.length > 0 && output.includes('\u0000')) {
      copied = echoCoverage(output, [withoutOwnValues(prompt(), own)], windowChars, []).covered;
    }
  }
  let copiedChars = 0;
  for (const mark of copied) copiedChars += mark;
  const ratio = copiedChars / output.length;
  if (ratio >= maxCopiedRatio) {
    return fail('prompt_echo', `${Math.round(ratio * 100)}% of the output is copied from its prompt (limit ${Math.round(maxCopiedRatio * 100)}%)`);
  }
  return undefined;
}

/**
 * Pairs sorted and disjoint, from 0 on, as `markOwnValues` gives them: then a window copied from
 * outside them is a window of the prompt with them cut out. Marks from elsewhere may be neither.
 */
function orderedPairs(pairs: readonly number[]): boolean {
  let end = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    if ((pairs[i] as number) < end || (pairs[i + 1] as number) <= (pairs[i] as number)) return false;
    end = pairs[i + 1] as number;
  }
  return true;
}

function checkForeign(text: string, opts: ResolvedOptions, normalizedPrompt: () => string): OutputCheck {
  if (opts.otherRecordValues.length === 0) return { ok: true };
  const output = normalize(text).toLowerCase();
  const prompt = normalizedPrompt().toLowerCase();
  const own = new Set(opts.ownMarks ? opts.ownMarks.absent : opts.ownValues.map((value) => normalize(value).toLowerCase()));
  for (let i = 0; i < opts.otherRecordValues.length; i += 1) {
    const value = normalize(opts.otherRecordValues[i] as string).toLowerCase();
    if (value.length < opts.foreignMinChars || own.has(value)) continue;
    // A value this job was itself given (in its prompt) is not another record's data here.
    if (prompt.includes(value)) continue;
    if (output.includes(value)) {
      return fail('foreign_data', `output contains a value of another record (value ${i + 1} of ${opts.otherRecordValues.length})`);
    }
  }
  return { ok: true };
}
