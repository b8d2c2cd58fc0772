/**
 * Prompt echo detection for the data-quality gate (`checkOutput`). Its cost is proportional to
 * the output plus one pass over the prompt that allocates nothing per character: the output's
 * windows (a few hundred for a typical answer) go into a small table, the prompt streams through
 * a rolling hash with whitespace collapsed on the fly, and a hash hit is confirmed by comparing
 * characters. The prompt is read as its message contents joined by newlines, never joined here:
 * a job waiting on a slow LLM keeps only the strings it sends.
 */

import { isSpace } from './prompt-text.ts';

/** When an output counts as an echo of its prompt (see `checkOutput`). */
export interface EchoThresholds {
  /** A copy counts once it is at least this many characters long. Default 40. */
  windowChars: number;
  /** A single copied span this long is an echo, whatever else the output says. Default 200. */
  maxSpanChars: number;
  /** Copied spans covering this fraction of the output make it an echo. Default 0.5. */
  maxCopiedRatio: number;
}

export const DEFAULT_ECHO_THRESHOLDS: EchoThresholds = { windowChars: 40, maxSpanChars: 200, maxCopiedRatio: 0.5 };

/** The smallest `windowChars` allowed, and so the shortest own value ever set apart. */
export const MIN_WINDOW_CHARS = 8;

// Polynomial hash mod 2^32 (Math.imul wraps): cheap per character, and every hit is confirmed
// by comparing characters, so a collision costs time, never a wrong verdict.
const BASE = 0x01000193;
const MIX = 0x9e3779b1;

function power(exp: number): number {
  let result = 1;
  for (let i = 0; i < exp; i += 1) result = Math.imul(result, BASE);
  return result;
}

/**
 * The output's distinct windows of `k` characters, in an open-addressing table keyed by hash.
 * A group is one distinct window; `nextStart` chains every output position where it starts.
 */
class OutputWindows {
  readonly slots: Int32Array;
  readonly shift: number;
  readonly groupHash: Int32Array;
  readonly groupStart: Int32Array;
  readonly nextStart: Int32Array;
  groups = 0;

  constructor(
    readonly output: string,
    readonly k: number,
  ) {
    const windows = output.length - k + 1;
    let bits = 4;
    while (1 << bits < windows * 2) bits += 1;
    this.slots = new Int32Array(1 << bits).fill(-1);
    this.shift = 32 - bits;
    this.groupHash = new Int32Array(windows);
    this.groupStart = new Int32Array(windows);
    this.nextStart = new Int32Array(windows).fill(-1);
    const groupLast = new Int32Array(windows);
    const high = power(k - 1);
    let hash = 0;
    for (let i = 0; i < output.length; i += 1) {
      if (i >= k) hash = (hash - Math.imul(output.charCodeAt(i - k), high)) | 0;
      hash = (Math.imul(hash, BASE) + output.charCodeAt(i)) | 0;
      if (i < k - 1) continue;
      const start = i - k + 1;
      let slot = Math.imul(hash, MIX) >>> this.shift;
      let group = this.slots[slot] as number;
      while (group !== -1 && !(this.groupHash[group] === hash && this.sameAsOutput(this.groupStart[group] as number, start))) {
        slot = (slot + 1) & (this.slots.length - 1);
        group = this.slots[slot] as number;
      }
      if (group === -1) {
        group = this.groups++;
        this.slots[slot] = group;
        this.groupHash[group] = hash;
        this.groupStart[group] = start;
      } else {
        this.nextStart[groupLast[group] as number] = start;
      }
      groupLast[group] = start;
    }
  }

  private sameAsOutput(a: number, b: number): boolean {
    for (let i = 0; i < this.k; i += 1) if (this.output.charCodeAt(a + i) !== this.output.charCodeAt(b + i)) return false;
    return true;
  }

  /** Marks (1) every output position lying in a window of a flagged group. */
  mark(flags: Uint8Array): Uint8Array {
    const depth = new Int32Array(this.output.length + 1);
    for (let group = 0; group < this.groups; group += 1) {
      if (!flags[group]) continue;
      for (let start = this.groupStart[group] as number; start !== -1; start = this.nextStart[start] as number) {
        depth[start] = (depth[start] as number) + 1;
        depth[start + this.k] = (depth[start + this.k] as number) - 1;
      }
    }
    const marks = new Uint8Array(this.output.length);
    let open = 0;
    for (let i = 0; i < marks.length; i += 1) {
      open += depth[i] as number;
      marks[i] = open > 0 ? 1 : 0;
    }
    return marks;
  }
}

/** What one pass over the prompt found: output positions copied from anywhere in it, and
 * from the part that is not a copy of the record's own values. */
export interface EchoCoverage {
  covered: Uint8Array;
  copied: Uint8Array;
}

/**
 * The rare half of the scan: a prompt window whose hash an output window has. Confirms it
 * character by character against the ring of the prompt's last characters and records it.
 */
class WindowMatcher {
  readonly covered: Uint8Array;
  readonly copied: Uint8Array;
  /** Distinct output windows not yet found both ways; at 0 the rest of the prompt changes nothing. */
  open: number;
  private ownAt = 0; // the first own pair that may still overlap a window

  constructor(
    private readonly windows: OutputWindows,
    private readonly own: readonly number[],
    private readonly ring: Uint16Array,
  ) {
    this.covered = new Uint8Array(windows.groups);
    this.copied = new Uint8Array(windows.groups);
    this.open = windows.groups * 2;
  }

  /** The prompt window ending before position `end` (normalized) hashes to `hash`. */
  hit(hash: number, end: number): void {
    const { slots, shift, groupHash, groupStart, output, k } = this.windows;
    const { own, ring, covered, copied } = this;
    const mask = slots.length - 1;
    const ringMask = ring.length - 1;
    let slot = Math.imul(hash, MIX) >>> shift;
    let group = slots[slot] as number;
    if (group === -1) return;
    const windowStart = end - k;
    while (this.ownAt < own.length && (own[this.ownAt + 1] as number) <= windowStart) this.ownAt += 2;
    const ownOverlap = this.ownAt < own.length && (own[this.ownAt] as number) < end;
    for (; group !== -1; slot = (slot + 1) & mask, group = slots[slot] as number) {
      if (groupHash[group] !== hash || (covered[group] && (copied[group] || ownOverlap))) continue;
      const start = groupStart[group] as number;
      let same = true;
      for (let i = 0; i < k && same; i += 1) same = ring[(windowStart + i) & ringMask] === output.charCodeAt(start + i);
      if (!same) continue;
      if (!covered[group]) (covered[group] = 1), (this.open -= 1);
      if (!ownOverlap && !copied[group]) (copied[group] = 1), (this.open -= 1);
    }
  }
}

/**
 * Finds every window of `k` characters of `output` (already normalized) that occurs in the
 * normalized prompt. `own` lists the prompt's own-value occurrences as sorted, disjoint
 * [start, end) pairs (flat), positions in the normalized prompt; a window overlapping one of
 * them counts as covered but not as copied.
 */
export function echoCoverage(output: string, parts: readonly string[], k: number, own: readonly number[]): EchoCoverage {
  if (output.length < k) return { covered: new Uint8Array(output.length), copied: new Uint8Array(output.length) };
  const windows = new OutputWindows(output, k);
  // A 2^16-bit filter of the output windows' hashes: a few hundred windows set well under 1% of
  // it, so nearly every prompt window is dismissed by one bit test, the table never consulted.
  const filter = new Int32Array(2048);
  for (let group = 0; group < windows.groups; group += 1) {
    const bit = (windows.groupHash[group] as number) >>> 16;
    filter[bit >>> 5] = (filter[bit >>> 5] as number) | (1 << (bit & 31));
  }
  // The last characters of the normalized prompt; a power of two long, so a mask replaces modulo.
  let ringSize = 1;
  while (ringSize < k) ringSize <<= 1;
  const ringMask = ringSize - 1;
  const ring = new Uint16Array(ringSize);
  const matcher = new WindowMatcher(windows, own, ring);
  const high = power(k - 1);
  // The hot loop keeps its state in locals: it runs once per prompt character (64 K of them).
  let hash = 0;
  let at = 0; // characters of the normalized prompt seen so far
  let pendingSpace = false;
  scan: for (let p = 0; p < parts.length; p += 1) {
    const part = parts[p] as string;
    if (p > 0) pendingSpace = true;
    for (let i = 0; i < part.length; i += 1) {
      const c = part.charCodeAt(i);
      if ((c <= 32 || c >= 0xa0) && isSpace(c)) {
        pendingSpace = true;
        continue;
      }
      // A collapsed whitespace run enters the stream as one space before this character.
      let next = pendingSpace && at > 0 ? 32 : c;
      pendingSpace = false;
      for (;;) {
        if (at >= k) hash = (hash - Math.imul(ring[(at - k) & ringMask] as number, high)) | 0;
        hash = (Math.imul(hash, BASE) + next) | 0;
        ring[at & ringMask] = next;
        at += 1;
        if (at >= k && ((filter[hash >>> 21] as number) & (1 << ((hash >>> 16) & 31))) !== 0) {
          matcher.hit(hash, at);
          if (matcher.open === 0) break scan;
        }
        if (next === c) break;
        next = c;
      }
    }
  }
  return { covered: windows.mark(matcher.covered), copied: windows.mark(matcher.copied) };
}
