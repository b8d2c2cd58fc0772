/**
 * Where a record's own values (its string inputs, its prompt context) lie in the normalized
 * prompt. The echo check sets them apart: copying them is quoting, not echoing the instructions.
 */
import { MIN_WINDOW_CHARS } from './prompt-echo.ts';
import { indexOfLong, jsonEscaped, normalize } from './prompt-text.ts';

/**
 * Where the record's own values lie in the normalized prompt, as `checkOutput` sets them apart:
 * each value and its JSON-escaped form (how inputs sit in the prompt), normalized, longest first
 * so a value containing another is taken whole, each occurrence leftmost first and never
 * overlapping one already taken. Sorted, disjoint [start, end) pairs, flat.
 */
export function ownValueRanges(prompt: string, ownValues: readonly string[]): number[] {
  return rangesOfForms(prompt, ownValueForms(ownValues));
}

/** Each own value normalized, and its JSON-escaped form when that differs: how it may sit in a prompt. */
export function ownValueForms(ownValues: readonly string[]): Array<{ plain: string; escaped?: string }> {
  return ownValues.map((value) => {
    if (isPlainAscii(value)) return { plain: value };
    const escaped = jsonEscaped(value);
    return escaped === value ? { plain: normalize(value) } : { plain: normalize(value), escaped: normalize(escaped) };
  });
}

const CONTROL_OR_DOUBLE_SPACE = /[\u0000-\u001f\ud800-\udfff]| {2}/;

/**
 * Whether `value` is its own normalized and JSON-escaped form for the simple reason that it is
 * ASCII (its UTF-8 is as long as it is), without quote, backslash or control characters (so its
 * only whitespace is the space), without a double space, and not starting or ending with one.
 * One scan of a 64 KB context in place of two, and a prose value with a quote or a newline is
 * turned down within its first lines.
 */
function isPlainAscii(value: string): boolean {
  if (value.includes('"') || value.includes('\\') || value.charCodeAt(0) === 32 || value.charCodeAt(value.length - 1) === 32) return false;
  return Buffer.byteLength(value) === value.length && !CONTROL_OR_DOUBLE_SPACE.test(value);
}

/** `ownValueRanges` of values already turned into their forms (`ownValueForms`). */
export function rangesOfForms(prompt: string, values: ReadonlyArray<{ plain: string; escaped?: string }>): number[] {
  return locateForms(prompt, values).ranges;
}

/**
 * `rangesOfForms`, and the forms it found an occurrence of (a form not found may still lie
 * inside an occurrence of a longer one). An occurrence overlapping one already taken is never
 * taken, so only the gaps between taken ones are searched, each alone: once a 64 KB context is
 * taken, the shorter values are looked for in the few hundred characters around it.
 */
export function locateForms(prompt: string, values: ReadonlyArray<{ plain: string; escaped?: string }>): { ranges: number[]; found: Set<string> } {
  const forms = values
    .flatMap((value) => (value.escaped === undefined ? [value.plain] : [value.plain, value.escaped]))
    .filter((form) => form.length >= MIN_WINDOW_CHARS)
    .sort((a, b) => b.length - a.length);
  let taken: number[] = []; // sorted, disjoint [start, end) pairs, flat
  const found = new Set<string>();
  for (const form of forms) {
    const added: number[] = [];
    for (let t = 0; t <= taken.length; t += 2) {
      const gapStart = t === 0 ? 0 : (taken[t - 1] as number);
      const gapEnd = t < taken.length ? (taken[t] as number) : prompt.length;
      if (gapEnd - gapStart < form.length) continue;
      const gap = prompt.slice(gapStart, gapEnd);
      for (let at = indexOfLong(gap, form, 0); at !== -1; at = indexOfLong(gap, form, at + form.length)) added.push(gapStart + at, gapStart + at + form.length);
    }
    if (added.length === 0) continue;
    found.add(form);
    taken = mergePairs(taken, added);
  }
  return { ranges: taken, found };
}

function mergePairs(a: readonly number[], b: readonly number[]): number[] {
  const merged: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && (a[i] as number) < (b[j] as number))) merged.push(a[i] as number, a[i + 1] as number), (i += 2);
    else merged.push(b[j] as number, b[j + 1] as number), (j += 2);
  }
  return merged;
}

/** The pairs of `ownValueRanges` for values of at least `minChars` characters. */
export function rangesAtLeast(ranges: readonly number[], minChars: number): number[] {
  const kept: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    const start = ranges[i] as number;
    const end = ranges[i + 1] as number;
    if (end - start >= minChars) kept.push(start, end);
  }
  return kept;
}

/** The normalized prompt with each own-value occurrence replaced by U+0000, as one string. */
export function withoutOwnValues(prompt: string, own: readonly number[]): string {
  let text = '';
  let from = 0;
  for (let i = 0; i < own.length; i += 2) {
    text += `${prompt.slice(from, own[i])}\u0000`;
    from = own[i + 1] as number;
  }
  return text + prompt.slice(from);
}
