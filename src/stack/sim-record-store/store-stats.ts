/** Counts taken at the simulated record store: the ground truth for "write back once, never stale". */
import type { WritebackCounts } from './writeback-audit.ts';

/** Request counters kept by the API routes. */
export interface RequestCounts {
  gets: number;
  /** Every PATCH received, whatever its answer. */
  patches: number;
  /** PATCHes that changed a record. */
  patchesApplied: number;
  conflicts412: number;
  notFound404: number;
  preconditionRequired428: number;
  deletes: number;
}

export interface SimRecordStoreStats extends RequestCounts, WritebackCounts {
  /** Records currently stored. */
  records: number;
}

export const emptyRequestCounts = (): RequestCounts => ({
  gets: 0,
  patches: 0,
  patchesApplied: 0,
  conflicts412: 0,
  notFound404: 0,
  preconditionRequired428: 0,
  deletes: 0,
});
