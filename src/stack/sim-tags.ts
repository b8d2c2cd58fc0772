/**
 * Tag protocol shared by the simulated LLM and the simulated record store.
 *
 * Exactly-once is measured at the simulators, never reported by the runtime, so
 * the LLM stamps every completion with a marker naming the prompt it answered and
 * the record inputs it saw; the record store reads that marker back at write time
 * to spot duplicate and stale write-backs on its own.
 *
 *   prompt user message:  ... <inputs>{"fldA":"x","fldB":2}</inputs> ...
 *   completion content:   "<text> ⟦gen:<promptDigest>|in:<fieldIds>:<inputsDigest>⟧"
 */
import { createHash } from 'node:crypto';

export type InputValue = string | number | boolean | null;
export type InputValues = Record<string, InputValue>;

export interface ParsedMarker {
  promptDigest: string;
  /** Sorted input field ids; empty when the prompt carried no `<inputs>` block. */
  fieldIds: string[];
  /** null when the prompt carried no `<inputs>` block, so no stale check is possible. */
  inputsDigest: string | null;
}

const DIGEST_CHARS = 16;
const MARKER_OPEN = '⟦gen:';
const MARKER_CLOSE = '⟧';
// Global so the last marker wins: generated text could quote an older one.
const MARKER_RE = /⟦gen:([0-9a-f]{16})\|in:([^⟧]*)⟧/g;
const INPUTS_RE = /<inputs>([\s\S]*?)<\/inputs>/;

/** JSON with object keys sorted recursively and no whitespace, so equal data hashes equal. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined and functions have no JSON form; treat them like JSON.stringify does in arrays.
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  return `{${parts.join(',')}}`;
}

/** First 16 hex chars of SHA-256: short enough for a marker, wide enough to never collide in a run. */
export function shortSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, DIGEST_CHARS);
}

/** Identity of one distinct generation: same digest twice means the same job paid twice. */
export function promptDigest(messages: unknown): string {
  return shortSha256(canonicalJson(messages));
}

/** `fieldIds.join(',') + ':' + digest`; field ids must not contain ',' since the tag is split on it. */
export function inputsTag(inputs: InputValues): string {
  const fieldIds = Object.keys(inputs).sort();
  for (const id of fieldIds) {
    if (id.includes(',') || id.includes(MARKER_CLOSE) || id.includes('|')) {
      throw new TypeError(`inputsTag: field id ${JSON.stringify(id)} contains a reserved character (, | ⟧)`);
    }
  }
  return `${fieldIds.join(',')}:${shortSha256(canonicalJson(inputs))}`;
}

/**
 * Renders the block the runtime puts into the user message. `<` is escaped inside the
 * JSON so a value containing "</inputs>" cannot end the block early.
 */
export function renderInputsBlock(inputs: InputValues): string {
  return `<inputs>${canonicalJson(inputs).replace(/</g, '\\u003c')}</inputs>`;
}

/** Parses the first `<inputs>` block in `text`; null when absent or not a flat JSON object. */
export function parseInputsBlock(text: string): InputValues | null {
  const match = INPUTS_RE.exec(text);
  if (!match) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(match[1] ?? '');
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  for (const v of Object.values(parsed)) {
    if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return null;
  }
  return parsed as InputValues;
}

/** Text of a chat message content: a string, or the text parts of a content-part array. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string'
      ? (part as { text: string }).text
      : ''))
    .join('');
}

/** Inputs from the latest user message that carries an `<inputs>` block. */
export function findInputs(messages: ReadonlyArray<{ role?: unknown; content?: unknown }>): InputValues | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m || m.role !== 'user') continue;
    const inputs = parseInputsBlock(messageText(m.content));
    if (inputs) return inputs;
  }
  return null;
}

/** The marker, with its leading space, as appended to completion content. */
export function formatMarker(digest: string, inputs: InputValues | null): string {
  return ` ${MARKER_OPEN}${digest}|in:${inputs ? inputsTag(inputs) : ''}${MARKER_CLOSE}`;
}

/** The last marker in `text`, or null. */
export function parseMarker(text: string): ParsedMarker | null {
  let last: RegExpExecArray | null = null;
  for (const m of text.matchAll(MARKER_RE)) last = m;
  if (!last) return null;
  const promptDigestPart = last[1] ?? '';
  const inPart = last[2] ?? '';
  if (inPart === '') return { promptDigest: promptDigestPart, fieldIds: [], inputsDigest: null };
  const sep = inPart.lastIndexOf(':');
  const digest = inPart.slice(sep + 1);
  if (sep < 0 || !/^[0-9a-f]{16}$/.test(digest)) return null;
  const ids = inPart.slice(0, sep);
  return { promptDigest: promptDigestPart, fieldIds: ids === '' ? [] : ids.split(','), inputsDigest: digest };
}

/**
 * True when `current` (the record's values now) differ from what the marker says the
 * LLM saw. Absent fields count as null, matching how an empty field is rendered.
 */
export function isStaleAgainst(marker: ParsedMarker, current: Record<string, unknown>): boolean {
  if (marker.inputsDigest === null) return false;
  const values: InputValues = {};
  for (const id of marker.fieldIds) {
    const v = current[id];
    values[id] = v === undefined ? null : (v as InputValue);
  }
  return shortSha256(canonicalJson(values)) !== marker.inputsDigest;
}
