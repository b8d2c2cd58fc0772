import fc from 'fast-check';
import { BODY_LIMIT_BYTES } from '../../src/jobs/generation-request.ts';

/**
 * fast-check arbitraries for generation requests, valid and malformed, shared by the HTTP and the
 * SQS fuzzers. A malformed request is built from a valid one by one mutation, so each case is
 * wrong in one way a reader can name (the `kind`), not in ten ways at once.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type RequestObject = Record<string, Json>;

const ID = /^[A-Za-z0-9_-]{1,24}$/;
const idArb = fc.stringMatching(ID);
const fieldIdArb = fc.stringMatching(/^fld[A-Za-z0-9]{1,10}$/);
/** Fresh records every time: no two cases should share a job key by accident. */
const recordIdArb = fc.stringMatching(/^rec[A-Za-z0-9]{12,20}$/);

const inputValueArb: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.boolean(),
  fc.constant(null),
);

/** A request the API would accept (prompt versions that exist in config/prompts). */
export const validRequestArb: fc.Arbitrary<RequestObject> = fc
  .record(
    {
      base_id: idArb,
      table_id: idArb,
      record_id: recordIdArb,
      field_id: fieldIdArb,
      prompt_version: fc.constantFrom('summary-v1', 'followup-v1'),
      inputs: fc.dictionary(fieldIdArb, inputValueArb, { minKeys: 1, maxKeys: 4 }),
      context: fc.string({ maxLength: 120 }),
      output: fc.record({ max_length: fc.integer({ min: 1, max: 100_000 }), format: fc.constantFrom('text', 'json') }, { requiredKeys: [] }),
      priority: fc.constantFrom('interactive', 'bulk'),
      source: fc.constantFrom('automation', 'interface', 'api', 'backfill'),
      metadata: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.oneof(fc.string({ maxLength: 20 }), fc.integer()), { maxKeys: 4 }),
    },
    { requiredKeys: ['base_id', 'table_id', 'record_id', 'field_id', 'prompt_version', 'inputs'] },
  )
  .map((request) => request as RequestObject);

const REQUIRED = ['base_id', 'table_id', 'record_id', 'field_id', 'prompt_version', 'inputs'] as const;
const STRING_FIELDS = ['base_id', 'table_id', 'record_id', 'field_id', 'prompt_version', 'context'] as const;

/** Values of every JSON type but the one a field wants. */
const notAString: fc.Arbitrary<Json> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const notAnObject: fc.Arbitrary<Json> = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
);

function nest(depth: number, leaf: Json, shape: 'array' | 'object'): Json {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = shape === 'array' ? [value] : { k: value };
  return value;
}

/** A malformed request as an object (serialized with JSON.stringify), and what is wrong with it. */
export interface MutatedRequest {
  kind: string;
  request: RequestObject;
}

const ENUM_VALUES = new Set(['interactive', 'bulk', 'automation', 'interface', 'api', 'backfill', 'text', 'json']);

const wrongType: fc.Arbitrary<MutatedRequest> = fc.oneof(
  fc.tuple(validRequestArb, fc.constantFrom(...STRING_FIELDS), notAString).map(([r, field, value]) => ({ kind: `wrong_type:${field}`, request: { ...r, [field]: value } })),
  fc.tuple(validRequestArb, notAnObject).map(([r, value]) => ({ kind: 'wrong_type:inputs', request: { ...r, inputs: value } })),
  fc.tuple(validRequestArb, fc.oneof(fc.array(fc.integer(), { minLength: 1, maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { minKeys: 1, maxKeys: 2 }))).map(([r, value]) => ({
    kind: 'wrong_type:inputs.value',
    request: { ...r, inputs: { ...(r['inputs'] as RequestObject), fldBad: value } },
  })),
  fc.tuple(validRequestArb, notAnObject).map(([r, value]) => ({ kind: 'wrong_type:metadata', request: { ...r, metadata: value } })),
  fc.tuple(validRequestArb, fc.oneof(fc.string({ maxLength: 5 }), fc.integer({ min: 1, max: 99 }).map((n) => n + 0.5), fc.constantFrom(0, -1, 100_001, 1e9))).map(([r, value]) => ({
    kind: 'wrong_type:output.max_length',
    request: { ...r, output: { max_length: value } },
  })),
  fc.tuple(validRequestArb, fc.constantFrom('priority', 'source', 'format'), fc.oneof(fc.string({ maxLength: 12 }).filter((v) => !ENUM_VALUES.has(v)), fc.integer())).map(([r, field, value]) => ({
    kind: `wrong_enum:${field}`,
    request: field === 'format' ? { ...r, output: { format: value } } : { ...r, [field]: value },
  })),
);

const missingFields: fc.Arbitrary<MutatedRequest> = fc
  .tuple(validRequestArb, fc.subarray([...REQUIRED], { minLength: 1 }))
  .map(([r, drop]) => {
    const request = { ...r };
    for (const field of drop) delete request[field];
    return { kind: `missing:${drop.join('+')}`, request };
  });

const badValues: fc.Arbitrary<MutatedRequest> = fc.oneof(
  // Ids outside [A-Za-z0-9_-]{1,64}.
  fc.tuple(validRequestArb, fc.constantFrom('base_id', 'table_id', 'record_id', 'field_id'), fc.oneof(fc.constant(''), fc.string({ minLength: 1, maxLength: 10 }).map((s) => `${s}!/ ${s}`), fc.constant('x'.repeat(65)))).map(([r, field, value]) => ({
    kind: `bad_id:${field}`,
    request: { ...r, [field]: value },
  })),
  fc.tuple(validRequestArb, fc.constantFrom('Summary-V1', 'nope-v9', '', '../../etc/passwd', 'summary-v1 ')).map(([r, version]) => ({ kind: 'bad_prompt_version', request: { ...r, prompt_version: version } })),
  fc.tuple(validRequestArb, fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !['base_id', 'table_id', 'record_id', 'field_id', 'prompt_version', 'inputs', 'context', 'output', 'priority', 'source', 'metadata'].includes(k)), fc.jsonValue({ maxDepth: 2 })).map(([r, key, value]) => ({
    kind: 'unknown_field',
    request: { ...r, [key]: value as Json },
  })),
  validRequestArb.map((r) => ({ kind: 'empty_inputs', request: { ...r, inputs: {} } })),
  fc.tuple(validRequestArb, fc.constantFrom('', 'has space', 'x'.repeat(65), 'dot.ted', 'ünï')).map(([r, key]) => ({ kind: 'bad_input_name', request: { ...r, inputs: { [key]: 'v' } } })),
  fc.tuple(validRequestArb, fc.integer({ min: 65, max: 300 })).map(([r, n]) => ({ kind: 'too_many_inputs', request: { ...r, inputs: Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i])) } })),
  fc.tuple(validRequestArb, fc.integer({ min: 33, max: 200 })).map(([r, n]) => ({ kind: 'too_many_metadata', request: { ...r, metadata: Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i])) } })),
  fc.tuple(validRequestArb, fc.integer({ min: 8 * 1024 + 1, max: 60_000 })).map(([r, n]) => ({ kind: 'metadata_over_8kb', request: { ...r, metadata: { blob: 'm'.repeat(n) } } })),
  fc.tuple(validRequestArb, fc.integer({ min: 64 * 1024 + 1, max: 70_000 })).map(([r, n]) => ({ kind: 'context_over_64kb', request: { ...r, context: 'c'.repeat(n) } })),
);

/** Strings far beyond what any field takes; some bodies end over the limit (413), some under (400). */
const hugeStrings: fc.Arbitrary<MutatedRequest> = fc
  .tuple(validRequestArb, fc.constantFrom('base_id', 'record_id', 'prompt_version', 'inputs', 'metadata', 'trace'), fc.integer({ min: 9_000, max: 120_000 }), fc.constantFrom('a', 'é', '💡', '"', '\\', '\u0000'))
  .map(([r, field, n, unit]) => {
    const huge = unit.repeat(Math.ceil(n / unit.length));
    if (field === 'inputs') return { kind: 'huge_string:inputs', request: { ...r, inputs: { fldHuge: huge } } };
    if (field === 'metadata') return { kind: 'huge_string:metadata', request: { ...r, metadata: { [huge.slice(0, 9000)]: 1 } } };
    if (field === 'trace') return { kind: 'huge_string:unknown', request: { ...r, [huge.slice(0, 2000)]: huge } };
    return { kind: `huge_string:${field}`, request: { ...r, [field]: huge } };
  });

const deepNesting: fc.Arbitrary<MutatedRequest> = fc
  .tuple(validRequestArb, fc.constantFrom('metadata', 'inputs', 'output', 'unknown'), fc.integer({ min: 17, max: 3000 }), fc.constantFrom('array', 'object') as fc.Arbitrary<'array' | 'object'>)
  .map(([r, where, depth, shape]) => {
    const deep = nest(depth, 'leaf', shape);
    if (where === 'metadata') return { kind: `deep:metadata:${shape}`, request: { ...r, metadata: { deep } } };
    if (where === 'inputs') return { kind: `deep:inputs:${shape}`, request: { ...r, inputs: { fldDeep: deep } } };
    if (where === 'output') return { kind: `deep:output:${shape}`, request: { ...r, output: { format: deep } } };
    return { kind: `deep:unknown:${shape}`, request: { ...r, deep } };
  });

/** JSON numbers DynamoDB (and the SDK's marshaller) cannot store: too large, too precise or too small. */
export const storageHostileNumberArb: fc.Arbitrary<number> = fc.oneof(
  fc.double({ min: 2 ** 53, max: 1e308, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1e308, max: -(2 ** 53), noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(5e-324, -5e-324, 1e-200, 1e-131, 9007199254740993),
);

const storageHostile: fc.Arbitrary<MutatedRequest> = fc
  .tuple(validRequestArb, fc.constantFrom('inputs', 'metadata'), storageHostileNumberArb)
  .map(([r, where, value]) => ({
    kind: `number_out_of_range:${where}`,
    request: where === 'inputs' ? { ...r, inputs: { ...(r['inputs'] as RequestObject), fldNum: value } } : { ...r, metadata: { n: value } },
  }));

/** All the ways, as objects. */
export const mutatedRequestArb: fc.Arbitrary<MutatedRequest> = fc.oneof(
  { arbitrary: wrongType, weight: 4 },
  { arbitrary: missingFields, weight: 2 },
  { arbitrary: badValues, weight: 4 },
  { arbitrary: hugeStrings, weight: 2 },
  { arbitrary: deepNesting, weight: 2 },
  { arbitrary: storageHostile, weight: 2 },
);

/** Text-level malformations: what no object can express (duplicate keys, prototype keys, escapes). */
export interface MalformedText {
  kind: string;
  text: string;
}

const PROTO = 'ZZ_PROTO_KEY_ZZ';
/** Invalid for every field a duplicate is made of (ids, versions, inputs). */
const invalidForAnyField: fc.Arbitrary<Json> = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function isInvalidUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return false;
  } catch {
    return true;
  }
}

export const malformedTextArb: fc.Arbitrary<MalformedText> = fc.oneof(
  // Duplicate keys: the valid value first (a first-wins parser accepts), or last (a last-wins one does).
  fc.tuple(validRequestArb, fc.constantFrom('base_id', 'record_id', 'prompt_version', 'inputs'), fc.boolean(), invalidForAnyField).map(([r, key, validLast, bad]) => {
    const good = r[key] as Json;
    const body = JSON.stringify({ ...r, [key]: validLast ? good : bad });
    const first = validLast ? bad : good;
    return { kind: `duplicate_key:${key}:${validLast ? 'valid_last' : 'valid_first'}`, text: `{${JSON.stringify(key)}:${JSON.stringify(first)},${body.slice(1)}` };
  }),
  fc.tuple(validRequestArb, fc.constantFrom('inputs', 'metadata'), fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant({ polluted: true } as Json))).map(([r, where, value]) => {
    const request = where === 'inputs' ? { ...r, inputs: { ...(r['inputs'] as RequestObject), [PROTO]: value } } : { ...r, metadata: { [PROTO]: value } };
    // A '__proto__' own key survives JSON.parse (and JSON.stringify), never an object literal.
    return { kind: `proto_key:${where}`, text: JSON.stringify(request).replace(`"${PROTO}"`, '"__proto__"') };
  }),
  // Escaped lone surrogates: valid JSON, not valid Unicode.
  fc.tuple(validRequestArb, fc.constantFrom('\\ud800', '\\udfff', 'a\\ud83d', '\\udca1b'), fc.constantFrom('inputs', 'context', 'metadata')).map(([r, escape, where]) => {
    const marker = 'ZZ_SURROGATE_ZZ';
    const request = where === 'inputs' ? { ...r, inputs: { fldText: marker } } : where === 'context' ? { ...r, context: marker } : { ...r, metadata: { note: marker } };
    return { kind: `lone_surrogate:${where}`, text: JSON.stringify(request).replace(marker, escape) };
  }),
  // Syntax: truncated, trailing garbage, JS-isms JSON does not allow.
  fc.tuple(validRequestArb, fc.nat()).map(([r, cut]) => {
    const text = JSON.stringify(r);
    return { kind: 'truncated_json', text: text.slice(0, cut % Math.max(1, text.length - 1)) };
  }),
  fc.tuple(validRequestArb, fc.constantFrom('}', ',', ' x', '{}', '\u0000', '//c')).map(([r, tail]) => ({ kind: 'trailing_garbage', text: JSON.stringify(r) + tail })),
  fc.tuple(validRequestArb, fc.constantFrom('NaN', 'Infinity', '-Infinity', "'single'", 'undefined', '0x1F', '01', '1.', '.5', '+1')).map(([r, token]) => ({
    kind: 'non_json_token',
    text: JSON.stringify({ ...r, inputs: { fldX: 'TOKEN' } }).replace('"TOKEN"', token),
  })),
  validRequestArb.map((r) => ({ kind: 'comments', text: `/* c */${JSON.stringify(r)}` })),
  fc.constantFrom('', ' ', 'null', 'true', '0', '"string"', '[]', '[{}]', '{}', '{"":""}').map((text) => ({ kind: 'json_non_request', text })),
  fc.string({ maxLength: 200 }).map((text) => ({ kind: 'random_text', text })),
);

/** Byte sequences that are not UTF-8: stray continuation, truncated, overlong, surrogate, out of range. */
export const invalidUtf8Arb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constantFrom(
    [0xff],
    [0xfe],
    [0x80],
    [0xbf],
    [0xc3, 0x28],
    [0xc3],
    [0xe2, 0x28, 0xa1],
    [0xe2, 0x82],
    [0xf0, 0x28, 0x8c, 0x28],
    [0xf0, 0x9f, 0x92],
    [0xc0, 0xaf],
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xed, 0xbf, 0xbf],
    [0xf4, 0x90, 0x80, 0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
  ).map((bytes) => Buffer.from(bytes)),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => Buffer.from(bytes.map((b) => 0x80 | (b & 0x7f)))).filter(isInvalidUtf8),
);

/** A request body with raw invalid UTF-8 inside a string value (or a key), as bytes. */
export const invalidUtf8BodyArb: fc.Arbitrary<{ kind: string; body: Buffer }> = fc
  .tuple(fc.oneof(validRequestArb, mutatedRequestArb.map((m) => m.request)), invalidUtf8Arb, fc.constantFrom('inputs', 'record_id', 'context', 'key'))
  .map(([r, bytes, where]) => {
    const marker = 'ZZ_BYTES_ZZ';
    const request =
      where === 'inputs' ? { ...r, inputs: { fldText: `a${marker}b` } } : where === 'key' ? { ...r, inputs: { [`fld${marker}`]: 'v' } } : { ...r, [where]: `rec${marker}` };
    const [before, after] = JSON.stringify(request).split(marker) as [string, string];
    return { kind: `invalid_utf8:${where}`, body: Buffer.concat([Buffer.from(before), bytes, Buffer.from(after)]) };
  });

export { BODY_LIMIT_BYTES };
