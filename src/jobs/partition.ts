import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/**
 * The partition of a record: every job on one record meets in one actor. Jump consistent hashing
 * (Lamping and Veach) keeps the mapping stable when the partition count grows: going from P to
 * P+1 moves only 1/(P+1) of the records, where a plain modulo would move almost all of them.
 */
export function partitionOf(record: { base_id: string; table_id: string; record_id: string }, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  const digest = createHash('sha256')
    .update(canonicalJson([record.base_id, record.table_id, record.record_id]), 'utf8')
    .digest();
  return jumpConsistentHash(digest.readBigUInt64BE(0), partitions);
}

const MASK_64 = (1n << 64n) - 1n;

export function jumpConsistentHash(key: bigint, buckets: number): number {
  let k = key & MASK_64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK_64;
    j = Math.floor(((b + 1) * Number(1n << 31n)) / Number((k >> 33n) + 1n));
  }
  return b;
}
