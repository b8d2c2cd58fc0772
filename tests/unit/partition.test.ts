import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jumpConsistentHash, partitionOf } from '../../src/jobs/partition.ts';

const records = Array.from({ length: 10_000 }, (_, i) => ({ base_id: `app${i % 7}`, table_id: `tbl${i % 3}`, record_id: `rec${i}` }));

describe('jumpConsistentHash', () => {
  it('matches the published reference implementation (Lamping & Veach) on known vectors', () => {
    // Expected values from the reference C++ code, as used by ClickHouse's jumpConsistentHash tests.
    const vectors: Array<[bigint, number, number]> = [
      [1n, 1, 0],
      [42n, 57, 43],
      [256n, 1024, 520],
      [3735883980n, 1, 0],
      [3735883980n, 666, 361],
      [16045690984833335023n, 255, 237],
    ];
    for (const [key, buckets, expected] of vectors) assert.equal(jumpConsistentHash(key, buckets), expected, `${key} / ${buckets}`);
  });

  it('stays in [0, buckets) for extreme keys', () => {
    for (const key of [0n, 1n, (1n << 64n) - 1n, 1n << 63n, 123456789n]) {
      for (const buckets of [1, 2, 16, 64, 1024]) {
        const bucket = jumpConsistentHash(key, buckets);
        assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < buckets, `${key} / ${buckets} → ${bucket}`);
      }
    }
  });

  it('only ever moves a key to the new bucket when buckets grow by one', () => {
    for (let key = 0n; key < 2000n; key += 1n) {
      const k = key * 0x9e3779b97f4a7c15n;
      for (const buckets of [1, 5, 16, 63]) {
        const before = jumpConsistentHash(k, buckets);
        const after = jumpConsistentHash(k, buckets + 1);
        assert.ok(after === before || after === buckets, `key ${k}: ${before} → ${after} at ${buckets}+1`);
      }
    }
  });
});

describe('partitionOf', () => {
  it('is in [0, P) and deterministic', () => {
    for (const P of [1, 2, 7, 16, 64]) {
      for (const record of records.slice(0, 500)) {
        const p = partitionOf(record, P);
        assert.ok(Number.isInteger(p) && p >= 0 && p < P);
        assert.equal(partitionOf({ ...record }, P), p);
      }
    }
  });

  it('puts every field and prompt of one record in the same partition', () => {
    const record = { base_id: 'appX', table_id: 'tblY', record_id: 'recZ' };
    const expected = partitionOf(record, 64);
    for (const field_id of ['fldA', 'fldB', 'fldC']) {
      const request = { ...record, field_id, prompt_version: `v-${field_id}`, inputs: { [field_id]: field_id } };
      assert.equal(partitionOf(request, 64), expected);
    }
  });

  it('depends on base, table and record, encoded so separators cannot collide', () => {
    // Not a guarantee of distinct partitions, but of distinct hashes: over 64 partitions some of these differ.
    const variants = [
      { base_id: 'a|b', table_id: 'c', record_id: 'd' },
      { base_id: 'a', table_id: 'b|c', record_id: 'd' },
      { base_id: 'a', table_id: 'b', record_id: 'c|d' },
      { base_id: 'x', table_id: 'b', record_id: 'd' },
    ];
    const seen = new Set(variants.map((record) => partitionOf(record, 1024)));
    assert.ok(seen.size > 1);
  });

  it('is roughly uniform: 10,000 records over 16 partitions, each within ±20% of the mean', () => {
    const counts = new Array<number>(16).fill(0);
    for (const record of records) counts[partitionOf(record, 16)]! += 1;
    const mean = records.length / 16;
    for (const [p, n] of counts.entries()) assert.ok(Math.abs(n - mean) <= 0.2 * mean, `partition ${p} holds ${n}, mean ${mean}`);
  });

  it('moves about 1/(P+1) of records when P grows to P+1, and only to the new partition', () => {
    for (const P of [4, 16, 63]) {
      let moved = 0;
      for (const record of records) {
        const before = partitionOf(record, P);
        const after = partitionOf(record, P + 1);
        if (before !== after) {
          moved += 1;
          assert.equal(after, P);
        }
      }
      const fraction = moved / records.length;
      assert.ok(fraction > 0, `P=${P}: nothing moved`);
      assert.ok(fraction < 2 / (P + 1), `P=${P}: moved ${fraction}, bound ${2 / (P + 1)}`);
    }
  });

  it('refuses a partition count that is not a positive integer', () => {
    const record = records[0]!;
    for (const bad of [0, -1, 1.5, NaN, Infinity]) assert.throws(() => partitionOf(record, bad), RangeError, String(bad));
    assert.equal(partitionOf(record, 1), 0);
  });
});
