import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/jobs/canonical-json.ts';
import type { InputValues } from '../../src/jobs/generation-request.ts';
import { contextDigest, inputHash, jobKey, payloadFingerprint } from '../../src/jobs/job-key.ts';

interface Vector {
  name: string;
  why: string;
  request: {
    base_id: string;
    table_id: string;
    record_id: string;
    field_id: string;
    prompt_version: string;
    inputs: InputValues;
  };
  inputs_canonical: string;
  input_hash: string;
  key_canonical: string;
  job_key: string;
}

const file = JSON.parse(readFileSync(new URL('../vectors/job-key-vectors.json', import.meta.url), 'utf8')) as {
  equivalent: string[][];
  vectors: Vector[];
};
const sha256 = (text: string) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
const byName = new Map(file.vectors.map((vector) => [vector.name, vector]));

describe('job key: committed vectors (tests/vectors/job-key-vectors.json)', () => {
  it('holds at least 8 vectors, each self-consistent', () => {
    assert.ok(file.vectors.length >= 8);
    for (const vector of file.vectors) {
      assert.equal(sha256(vector.inputs_canonical), vector.input_hash, vector.name);
      assert.equal(sha256(vector.key_canonical), vector.job_key, vector.name);
      assert.match(vector.job_key, /^[0-9a-f]{64}$/);
    }
  });

  for (const vector of file.vectors) {
    it(`src matches vector '${vector.name}' (${vector.why})`, () => {
      assert.equal(canonicalJson(vector.request.inputs), vector.inputs_canonical);
      assert.equal(inputHash(vector.request.inputs), vector.input_hash);
      assert.equal(jobKey(vector.request), vector.job_key);
    });
  }

  it('vectors declared equivalent share one key; every other vector has its own', () => {
    const groupOf = new Map<string, number>();
    file.equivalent.forEach((group, index) => group.forEach((name) => groupOf.set(name, index)));
    for (const group of file.equivalent) {
      const keys = new Set(group.map((name) => byName.get(name)?.job_key));
      assert.equal(keys.size, 1, `group ${group.join(', ')}`);
    }
    const seen = new Map<string, string>();
    for (const vector of file.vectors) {
      const owner = seen.get(vector.job_key);
      if (owner !== undefined) {
        assert.ok(groupOf.has(owner) && groupOf.get(owner) === groupOf.get(vector.name), `${vector.name} collides with ${owner}`);
      }
      seen.set(vector.job_key, vector.name);
    }
    assert.equal(seen.size, file.vectors.length - file.equivalent.reduce((n, group) => n + group.length - 1, 0));
  });

  it("separators inside ids cannot collide: record 'a|b' + field 'c' vs record 'a' + field 'b|c'", () => {
    const pairs: Array<[string, string]> = [
      ['separator-record-a|b-field-c', 'separator-record-a-field-b|c'],
      ['separator-comma-quote-1', 'separator-comma-quote-2'],
      ['separator-in-input-values', 'separator-in-input-values-split'],
      ['number-vs-string', 'number-one'],
      ['minimal', 'prompt-version-change'],
    ];
    for (const [left, right] of pairs) {
      const a = byName.get(left);
      const b = byName.get(right);
      assert.ok(a && b, `${left} / ${right} present`);
      assert.notEqual(jobKey(a.request), jobKey(b.request), `${left} vs ${right}`);
    }
  });
});

describe('job key: hand-built canonical strings', () => {
  it('is sha256 of the JSON array [base, table, record, field, prompt_version, input_hash]', () => {
    const inputs = { b: 2, a: 'x' };
    const ih = sha256('{"a":"x","b":2}');
    assert.equal(inputHash(inputs), ih);
    const expected = sha256(`["B1","T1","R1","F1","summary-v1","${ih}"]`);
    assert.equal(jobKey({ base_id: 'B1', table_id: 'T1', record_id: 'R1', field_id: 'F1', prompt_version: 'summary-v1', inputs }), expected);
  });

  it('ignores fields that are not part of the key (priority, source, metadata, context)', () => {
    const request = { base_id: 'b', table_id: 't', record_id: 'r', field_id: 'f', prompt_version: 'v1', inputs: { a: 1 } };
    const decorated = { ...request, priority: 'bulk' as const, source: 'backfill' as const, metadata: { x: 1 }, context: 'ctx' };
    assert.equal(jobKey(decorated), jobKey(request));
  });

  it('changes with each key component', () => {
    const request = { base_id: 'b', table_id: 't', record_id: 'r', field_id: 'f', prompt_version: 'v1', inputs: { a: 1 } };
    const keys = new Set([
      jobKey(request),
      jobKey({ ...request, base_id: 'b2' }),
      jobKey({ ...request, table_id: 't2' }),
      jobKey({ ...request, record_id: 'r2' }),
      jobKey({ ...request, field_id: 'f2' }),
      jobKey({ ...request, prompt_version: 'v2' }),
      jobKey({ ...request, inputs: { a: 2 } }),
      jobKey({ ...request, inputs: { a: 1, b: null } }),
    ]);
    assert.equal(keys.size, 8);
  });
});

describe('inputHash', () => {
  it('is canonical across key order', () => {
    assert.equal(inputHash({ z: 1, y: 'two', x: null, w: true }), inputHash({ w: true, x: null, y: 'two', z: 1 }));
  });

  it('distinguishes types and values', () => {
    assert.notEqual(inputHash({ a: 1 }), inputHash({ a: '1' }));
    assert.notEqual(inputHash({ a: null }), inputHash({ a: 'null' }));
    assert.notEqual(inputHash({ a: true }), inputHash({ a: 'true' }));
    assert.notEqual(inputHash({ a: '' }), inputHash({ a: null }));
    assert.notEqual(inputHash({ ab: 'c' }), inputHash({ a: 'bc' }));
  });
});

describe('payloadFingerprint', () => {
  const digestA = contextDigest('context A');
  const digestB = contextDigest('context B');

  it('is equal for the same context digest and output', () => {
    assert.equal(payloadFingerprint(digestA, { max_length: 100, format: 'text' }), payloadFingerprint(digestA, { format: 'text', max_length: 100 }));
    assert.equal(payloadFingerprint(undefined, undefined), payloadFingerprint(undefined, undefined));
  });

  it('differs for different context digests', () => {
    assert.notEqual(payloadFingerprint(digestA, undefined), payloadFingerprint(digestB, undefined));
    assert.notEqual(payloadFingerprint(digestA, undefined), payloadFingerprint(undefined, undefined));
  });

  it('differs for different outputs', () => {
    assert.notEqual(payloadFingerprint(digestA, { format: 'text' }), payloadFingerprint(digestA, { format: 'json' }));
    assert.notEqual(payloadFingerprint(digestA, { max_length: 10 }), payloadFingerprint(digestA, { max_length: 11 }));
    assert.notEqual(payloadFingerprint(digestA, { max_length: 10 }), payloadFingerprint(digestA, undefined));
  });

  it('contextDigest is sha256 of the UTF-8 bytes', () => {
    assert.equal(contextDigest('héllo'), createHash('sha256').update(Buffer.from([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f])).digest('hex'));
  });
});
