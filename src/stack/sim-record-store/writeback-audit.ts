/**
 * Judges each applied write at the store, from the marker the simulated LLM put in the
 * value: was this generation written before (duplicate), and had its inputs changed
 * since the LLM saw them (stale)? The write is applied either way: the point is to
 * count what the runtime did wrong, not to hide it.
 */
import { isStaleAgainst, parseMarker } from '../sim-tags.ts';
import type { Fields } from './record-table.ts';

const MAX_LISTED = 20;

export interface WritebackCounts {
  writebacks: number;
  duplicateWritebacks: number;
  staleWritebacks: number;
  duplicateDigests: string[];
  staleDigests: string[];
}

export class WritebackAudit {
  private written = new Set<string>();
  private counts: WritebackCounts = WritebackAudit.empty();

  private static empty(): WritebackCounts {
    return { writebacks: 0, duplicateWritebacks: 0, staleWritebacks: 0, duplicateDigests: [], staleDigests: [] };
  }

  /** Call with the record's fields BEFORE the patch is applied. */
  record(before: Readonly<Fields>, patch: Fields): void {
    for (const value of Object.values(patch)) {
      if (typeof value !== 'string') continue;
      const marker = parseMarker(value);
      if (!marker) continue;
      this.counts.writebacks++;
      if (this.written.has(marker.promptDigest)) {
        this.counts.duplicateWritebacks++;
        if (this.counts.duplicateDigests.length < MAX_LISTED) this.counts.duplicateDigests.push(marker.promptDigest);
      }
      this.written.add(marker.promptDigest);
      if (isStaleAgainst(marker, before)) {
        this.counts.staleWritebacks++;
        if (this.counts.staleDigests.length < MAX_LISTED) this.counts.staleDigests.push(marker.promptDigest);
      }
    }
  }

  /** True once a generation with this prompt digest has been written. */
  hasWritten(promptDigest: string): boolean {
    return this.written.has(promptDigest);
  }

  snapshot(): WritebackCounts {
    return { ...this.counts, duplicateDigests: [...this.counts.duplicateDigests], staleDigests: [...this.counts.staleDigests] };
  }

  reset(): void {
    this.written = new Set();
    this.counts = WritebackAudit.empty();
  }
}
