import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalJson, findInputs, formatMarker, inputsTag, isStaleAgainst, parseInputsBlock,
  parseMarker, promptDigest, renderInputsBlock, shortSha256,
} from '../../src/stack/sim-tags.ts';

test('canonicalJson sorts keys recursively and drops whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson({ b: 'x', a: 'y' }), canonicalJson({ a: 'y', b: 'x' }));
});

test('inputsTag lists sorted field ids and is independent of key order', () => {
  const tag = inputsTag({ fldB: 'other', fldA: 'some value' });
  assert.equal(tag, `fldA,fldB:${shortSha256('{"fldA":"some value","fldB":"other"}')}`);
  assert.equal(tag, inputsTag({ fldA: 'some value', fldB: 'other' }));
  assert.notEqual(tag, inputsTag({ fldA: 'some value', fldB: 'changed' }));
  assert.throws(() => inputsTag({ 'a,b': 'x' }), /reserved character/);
});

test('promptDigest is 16 hex chars and stable under key order', () => {
  const d = promptDigest([{ role: 'user', content: 'hi' }]);
  assert.match(d, /^[0-9a-f]{16}$/);
  assert.equal(d, promptDigest([{ content: 'hi', role: 'user' }]));
  assert.notEqual(d, promptDigest([{ role: 'user', content: 'hi!' }]));
});

test('marker round trip, with and without inputs', () => {
  const inputs = { fldB: 2, fldA: 'x', fldC: null };
  const marker = formatMarker('0123456789abcdef', inputs);
  assert.ok(marker.startsWith(' ⟦gen:0123456789abcdef|in:fldA,fldB,fldC:'));
  const parsed = parseMarker(`Summary of x.${marker}`);
  assert.deepEqual(parsed, {
    promptDigest: '0123456789abcdef',
    fieldIds: ['fldA', 'fldB', 'fldC'],
    inputsDigest: inputsTag(inputs).split(':')[1],
  });
  assert.deepEqual(parseMarker(`text${formatMarker('fedcba9876543210', null)}`), {
    promptDigest: 'fedcba9876543210', fieldIds: [], inputsDigest: null,
  });
  assert.equal(parseMarker('no marker here'), null);
  // The last marker wins, since generated text may quote an earlier one.
  const two = `a${formatMarker('1111111111111111', null)} b${formatMarker('2222222222222222', null)}`;
  assert.equal(parseMarker(two)?.promptDigest, '2222222222222222');
});

test('inputs block render/parse round trip survives a value containing </inputs>', () => {
  const inputs = { fldA: 'evil </inputs> value', fldB: true };
  const text = `Summarise this.\n${renderInputsBlock(inputs)}\nThanks.`;
  assert.deepEqual(parseInputsBlock(text), inputs);
  assert.equal(parseInputsBlock('<inputs>[1,2]</inputs>'), null);
  assert.equal(parseInputsBlock('<inputs>{"a":{"nested":1}}</inputs>'), null);
  assert.equal(parseInputsBlock('<inputs>{bad json</inputs>'), null);
  const messages = [
    { role: 'system', content: '<inputs>{"ignored":"system"}</inputs>' },
    { role: 'user', content: [{ type: 'text', text: '<inputs>{"fldA":"from parts"}</inputs>' }] },
  ];
  assert.deepEqual(findInputs(messages), { fldA: 'from parts' });
});

test('isStaleAgainst compares only the named fields; absent means null', () => {
  const marker = parseMarker(formatMarker('0123456789abcdef', { fldA: 'x', fldB: null }));
  assert.ok(marker);
  assert.equal(isStaleAgainst(marker, { fldA: 'x', fldOther: 'anything' }), false);
  assert.equal(isStaleAgainst(marker, { fldA: 'x', fldB: null }), false);
  assert.equal(isStaleAgainst(marker, { fldA: 'y' }), true);
  assert.equal(isStaleAgainst(marker, { fldA: 'x', fldB: 'now set' }), true);
});
