/**
 * Canonical JSON: object keys sorted by code point at every depth, no whitespace, numbers as
 * JavaScript prints them. Two semantically equal requests encode to the same bytes, which is what
 * makes the job key and input hash stable across producers, languages and days.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new TypeError('canonicalJson: non-finite numbers have no JSON encoding');
    }
    if (value === undefined) throw new TypeError('canonicalJson: undefined has no JSON encoding');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}
