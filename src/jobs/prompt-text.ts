/**
 * The prompt as the data-quality checks read it: whitespace runs collapsed (as
 * `text.replace(/\s+/g, ' ').trim()`), values as they sit inside JSON string literals, and a
 * search for long values that compares them whole.
 */

/** `\s` and `String.prototype.trim` agree on this set: WhiteSpace and LineTerminator. */
export function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Whitespace that is not already a lone space: a run of two or more, or one character other than
 * a space. Prose is full of lone spaces; replacing each with itself would rebuild a 64 KB context
 * thousands of times over. Written this way round (`\s{2,}` first) it matches the same runs and
 * scans a 64 KB context in about half the time the `[^\S ]\s*| \s+` form took (measured).
 */
const UNNORMALIZED_SPACE = /\s{2,}|[^\S ]/g;

/** Whitespace runs collapsed to one space, ends trimmed (as `text.replace(/\s+/g, ' ').trim()`). */
export function normalize(text: string): string {
  return text.replace(UNNORMALIZED_SPACE, ' ').trim();
}

/**
 * Characters `JSON.stringify` may escape, but for quote and backslash: controls, surrogates (lone
 * ones). Those two are looked for with `includes`, a memchr: with them in the class, a 64 KB
 * context took twice as long to scan (measured).
 */
const JSON_CONTROL_OR_SURROGATE = /[\u0000-\u001f\ud800-\udfff]/;

/** `value` as it sits inside a JSON string literal; the value itself when nothing needs escaping. */
export function jsonEscaped(value: string): string {
  const escapes = value.includes('"') || value.includes('\\') || JSON_CONTROL_OR_SURROGATE.test(value);
  return escapes ? JSON.stringify(value).slice(1, -1) : value;
}

/** The prompt as the checks read it: its parts joined by newlines, whitespace runs collapsed. */
export function normalizedPrompt(parts: readonly string[]): string {
  return normalize(parts.join('\n'));
}

/** Values this long are located by their head, then compared whole (see `indexOfLong`). */
export const LONG_VALUE_CHARS = 1024;
const HEAD_CHARS = 64;

/**
 * `text.indexOf(value, from)`. V8 confirms a candidate one character at a time, ~90 µs for a
 * 64 KB value; a candidate found by the value's head and compared with `===` (a memcmp) costs a
 * tenth of that.
 */
export function indexOfLong(text: string, value: string, from: number): number {
  if (value.length < LONG_VALUE_CHARS) return text.indexOf(value, from);
  const head = value.slice(0, HEAD_CHARS);
  const last = text.length - value.length;
  for (let at = text.indexOf(head, from); at !== -1 && at <= last; at = text.indexOf(head, at + 1)) {
    if (text.slice(at, at + value.length) === value) return at;
  }
  return -1;
}

/**
 * `normalizedPrompt(parts)`, given a value the prompt may carry verbatim (a context) and that
 * value normalized (`plain`): a 64 KB context is then scanned once, not once alone and once in
 * the prompt. A value that starts and ends with a non-space character is crossed by no
 * whitespace run, so the prompt normalizes as the text around it, normalized, with `plain` in
 * its place. `placed` tells whether it was: the prompt then contains `plain`.
 */
export function normalizedPromptAround(parts: readonly string[], value: string, plain: string): { text: string; placed: boolean } {
  const joined = parts.join('\n');
  const bounded = value.length > 0 && !isSpace(value.charCodeAt(0)) && !isSpace(value.charCodeAt(value.length - 1));
  const at = bounded ? indexOfLong(joined, value, 0) : -1;
  if (at === -1) return { text: normalize(joined), placed: false };
  const before = joined.slice(0, at).replace(UNNORMALIZED_SPACE, ' ').trimStart();
  const after = joined.slice(at + value.length).replace(UNNORMALIZED_SPACE, ' ').trimEnd();
  return { text: before + plain + after, placed: true };
}
