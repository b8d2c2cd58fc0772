/** If-Match evaluation per RFC 9110 §13.1.1: strong comparison, so weak tags never match. */

export type IfMatch = { kind: 'any' } | { kind: 'tags'; tags: string[] } | { kind: 'malformed' };

const ENTITY_TAG = /^(W\/)?"([^"]*)"$/;

export function parseIfMatch(header: string): IfMatch {
  const trimmed = header.trim();
  if (trimmed === '*') return { kind: 'any' };
  const tags: string[] = [];
  for (const part of trimmed.split(',')) {
    const m = ENTITY_TAG.exec(part.trim());
    // An unquoted version is a client bug worth a loud 400, not a silent 412.
    if (!m) return { kind: 'malformed' };
    if (!m[1]) tags.push(m[2] ?? '');
  }
  return { kind: 'tags', tags };
}

export function ifMatchPasses(cond: IfMatch, currentVersion: string): boolean {
  if (cond.kind === 'any') return true;
  if (cond.kind === 'malformed') return false;
  return cond.tags.includes(currentVersion);
}

export const etagOf = (version: string) => `"${version}"`;
