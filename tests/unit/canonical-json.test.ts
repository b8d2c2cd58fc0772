import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../src/jobs/canonical-json.ts';

describe('canonicalJson', () => {
  it('encodes scalars as JSON', () => {
    assert.equal(canonicalJson(null), 'null');
    assert.equal(canonicalJson(true), 'true');
    assert.equal(canonicalJson(false), 'false');
    assert.equal(canonicalJson(0), '0');
    assert.equal(canonicalJson(-0), '0');
    assert.equal(canonicalJson(1.5), '1.5');
    assert.equal(canonicalJson(1e21), '1e+21');
    assert.equal(canonicalJson('a"b\\c\n'), '"a\\"b\\\\c\\n"');
    assert.equal(canonicalJson('é😀'), '"é😀"');
  });

  it('sorts keys at every depth and writes no whitespace', () => {
    const value = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, aa: 'x' };
    assert.equal(canonicalJson(value), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"aa":"x","b":1}');
  });

  it('gives equal bytes for objects built in different key orders', () => {
    const one = { x: { q: 1, p: [1, 2] }, w: 'v' };
    const two = { w: 'v', x: { p: [1, 2], q: 1 } };
    assert.equal(canonicalJson(one), canonicalJson(two));
  });

  it('keeps array order', () => {
    assert.equal(canonicalJson([3, 1, 2]), '[3,1,2]');
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
    assert.equal(canonicalJson([{ b: 1, a: 2 }, []]), '[{"a":2,"b":1},[]]');
  });

  it('sorts keys by code unit, not by locale (uppercase before lowercase, digits first)', () => {
    assert.equal(canonicalJson({ b: 1, B: 2, '1': 3, _: 4, a: 5 }), '{"1":3,"B":2,"_":4,"a":5,"b":1}');
  });

  it('handles empty containers', () => {
    assert.equal(canonicalJson({}), '{}');
    assert.equal(canonicalJson([]), '[]');
    assert.equal(canonicalJson({ a: {}, b: [] }), '{"a":{},"b":[]}');
  });

  it('omits object properties whose value is undefined, so an absent optional field hashes like a missing one', () => {
    assert.equal(canonicalJson({ a: 1, b: undefined }), canonicalJson({ a: 1 }));
  });

  it('rejects undefined at the top level and inside arrays', () => {
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson([1, undefined]), TypeError);
  });

  it('rejects NaN and ±Infinity at any depth', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(() => canonicalJson(bad), TypeError);
      assert.throws(() => canonicalJson([bad]), TypeError);
      assert.throws(() => canonicalJson({ a: { b: bad } }), TypeError);
    }
  });

  it('agrees with JSON.stringify on values that have no key order to normalize', () => {
    const samples: unknown[] = ['plain', 'tab\there', 'ctrl\u0001', 'lone\ud800', 42, -3.25, [1, 'two', null, [true]]];
    for (const sample of samples) assert.equal(canonicalJson(sample), JSON.stringify(sample));
  });
});
