import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import {
  CONTEXT_LIMIT_BYTES,
  METADATA_LIMIT_BYTES,
  METADATA_MAX_DEPTH,
  parseGenerationRequest,
  type GenerationRequest,
} from '../../src/jobs/generation-request.ts';

const minimal = () => ({
  base_id: 'appBase01',
  table_id: 'tblDeals',
  record_id: 'rec_0001',
  field_id: 'fld-summary',
  prompt_version: 'summary-v1',
  inputs: { notes: 'Met at the fair; wants a quote' },
});

const full = (): GenerationRequest => ({
  ...minimal(),
  inputs: { notes: 'n', amount: 12.5, active: true, owner: null },
  context: 'Earlier emails: ...',
  output: { max_length: 400, format: 'text' },
  priority: 'bulk',
  source: 'backfill',
  metadata: { run: 'backfill-42', nested: { ok: [1, 2, 3] } },
});

/** Asserts a ValidationError with `code` whose message names `field`. */
function refuses(input: unknown, code: string, field: string | RegExp) {
  assert.throws(
    () => parseGenerationRequest(input),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
      assert.equal(error.code, code);
      assert.equal(error.retryable, false);
      if (typeof field === 'string') assert.ok(error.message.includes(field), `message '${error.message}' should name '${field}'`);
      else assert.match(error.message, field);
      return true;
    },
  );
}

describe('parseGenerationRequest: valid requests', () => {
  it('accepts a minimal request and returns it unchanged', () => {
    const request = minimal();
    assert.deepEqual(parseGenerationRequest(request), minimal());
  });

  it('accepts a request using every optional field', () => {
    assert.deepEqual(parseGenerationRequest(full()), full());
  });

  it('accepts each enum value', () => {
    for (const priority of ['interactive', 'bulk']) parseGenerationRequest({ ...minimal(), priority });
    for (const source of ['automation', 'interface', 'api', 'backfill']) parseGenerationRequest({ ...minimal(), source });
    for (const format of ['text', 'json']) parseGenerationRequest({ ...minimal(), output: { format } });
  });

  it('accepts ids at the 64-character limit and a 64-input request', () => {
    const inputs = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`f${i}`, i]));
    parseGenerationRequest({ ...minimal(), record_id: 'r'.repeat(64), inputs });
  });
});

describe('parseGenerationRequest: shape errors are invalid_request naming the field', () => {
  for (const field of ['base_id', 'table_id', 'record_id', 'field_id', 'prompt_version', 'inputs'] as const) {
    it(`refuses a request missing ${field}`, () => {
      const request: Record<string, unknown> = minimal();
      delete request[field];
      refuses(request, 'invalid_request', field);
    });
  }

  it('refuses anything that is not an object', () => {
    for (const bad of [null, undefined, 'text', 42, [], [minimal()]]) refuses(bad, 'invalid_request', 'request');
  });

  const wrongTypes: Array<[string, Record<string, unknown>, string]> = [
    ['base_id as number', { base_id: 5 }, 'base_id'],
    ['table_id as null', { table_id: null }, 'table_id'],
    ['record_id as array', { record_id: ['rec'] }, 'record_id'],
    ['field_id as boolean', { field_id: true }, 'field_id'],
    ['prompt_version as number', { prompt_version: 1 }, 'prompt_version'],
    ['inputs as array', { inputs: [['a', 'b']] }, 'inputs'],
    ['inputs as string', { inputs: 'a=b' }, 'inputs'],
    ['an input value that is an object', { inputs: { notes: { text: 'x' } } }, 'inputs.notes'],
    ['an input value that is an array', { inputs: { tags: ['a'] } }, 'inputs.tags'],
    ['context as number', { context: 12 }, 'context'],
    ['output as string', { output: 'text' }, 'output'],
    ['output.format unknown', { output: { format: 'xml' } }, 'output.format'],
    ['output.max_length zero', { output: { max_length: 0 } }, 'output.max_length'],
    ['output.max_length fractional', { output: { max_length: 1.5 } }, 'output.max_length'],
    ['output.max_length too large', { output: { max_length: 100001 } }, 'output.max_length'],
    ['priority unknown', { priority: 'urgent' }, 'priority'],
    ['source unknown', { source: 'email' }, 'source'],
    ['metadata as array', { metadata: [1] }, 'metadata'],
    ['metadata as string', { metadata: 'x' }, 'metadata'],
    ['metadata with 33 properties', { metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) }, 'metadata'],
  ];
  for (const [what, patch, field] of wrongTypes) {
    it(`refuses ${what}`, () => refuses({ ...minimal(), ...patch }, 'invalid_request', field));
  }

  it('refuses an unknown top-level field, naming it', () => {
    refuses({ ...minimal(), callback_url: 'http://x' }, 'invalid_request', 'callback_url');
  });

  it('refuses an unknown field inside output, naming it', () => {
    refuses({ ...minimal(), output: { format: 'text', temperature: 2 } }, 'invalid_request', 'temperature');
  });

  it('refuses empty inputs and more than 64 inputs', () => {
    refuses({ ...minimal(), inputs: {} }, 'invalid_request', 'inputs');
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, i]));
    refuses({ ...minimal(), inputs: many }, 'invalid_request', 'inputs');
  });

  it('refuses input field ids outside the id pattern', () => {
    for (const key of ['has space', 'a|b', 'é', 'x'.repeat(65)]) refuses({ ...minimal(), inputs: { [key]: 'v' } }, 'invalid_request', 'inputs');
  });

  for (const field of ['base_id', 'table_id', 'record_id', 'field_id'] as const) {
    it(`refuses ${field} values outside ^[A-Za-z0-9_-]{1,64}$`, () => {
      for (const bad of ['', 'a b', 'a|b', 'a,b', 'a"b', 'a/b', 'rec\n', 'réc', '😀', 'x'.repeat(65)]) {
        refuses({ ...minimal(), [field]: bad }, 'invalid_request', field);
      }
    });
  }

  it('refuses prompt_version outside ^[a-z0-9][a-z0-9._-]{0,63}$', () => {
    for (const bad of ['', 'Summary-v1', '-v1', '.v1', 'v 1', 'v/1', `v${'1'.repeat(64)}`]) {
      refuses({ ...minimal(), prompt_version: bad }, 'invalid_request', 'prompt_version');
    }
    for (const good of ['v1', 'summary-v1', 'a.b_c-d', `v${'1'.repeat(63)}`]) parseGenerationRequest({ ...minimal(), prompt_version: good });
  });
});

describe('parseGenerationRequest: size limits (UTF-8 bytes, not characters)', () => {
  it('sets the documented limits', () => {
    assert.equal(CONTEXT_LIMIT_BYTES, 65536);
    assert.equal(METADATA_LIMIT_BYTES, 8192);
  });

  it('accepts a context of exactly 64 KB and refuses 64 KB + 1 byte (ASCII)', () => {
    parseGenerationRequest({ ...minimal(), context: 'a'.repeat(65536) });
    refuses({ ...minimal(), context: 'a'.repeat(65537) }, 'payload_too_large', 'context');
  });

  it('counts multi-byte characters by their UTF-8 bytes', () => {
    // '€' is 3 bytes: 21845 × 3 + 1 = 65536 bytes in 21846 characters.
    const euros = '€'.repeat(21845);
    parseGenerationRequest({ ...minimal(), context: `${euros}a` });
    refuses({ ...minimal(), context: `${euros}ab` }, 'payload_too_large', 'context');
    // '😀' is 4 bytes (2 UTF-16 units): 16384 of them are exactly 64 KB in 32768 code units.
    const emoji = '😀'.repeat(16384);
    parseGenerationRequest({ ...minimal(), context: emoji });
    refuses({ ...minimal(), context: `${emoji}a` }, 'payload_too_large', 'context');
    // 21846 characters, far under 65536 characters, but 65538 bytes.
    refuses({ ...minimal(), context: '€'.repeat(21846) }, 'payload_too_large', 'context');
  });

  it('keeps the context out of the 8 KB metadata budget', () => {
    parseGenerationRequest({ ...minimal(), context: 'c'.repeat(60000), metadata: { note: 'm'.repeat(7000) } });
  });

  /** The request without context as canonical JSON, built by hand: keys inserted in sorted order. */
  function requestOfSize(bytes: number, filler: string): Record<string, unknown> {
    const build = (note: string) => {
      const m = minimal();
      return {
        base_id: m.base_id,
        field_id: m.field_id,
        inputs: m.inputs,
        metadata: { note },
        prompt_version: m.prompt_version,
        record_id: m.record_id,
        table_id: m.table_id,
      };
    };
    const overhead = Buffer.byteLength(JSON.stringify(build('')), 'utf8');
    const fillerBytes = Buffer.byteLength(filler, 'utf8');
    const room = bytes - overhead;
    assert.equal(room % fillerBytes, 0, 'test setup: filler must divide the room');
    const request = build(filler.repeat(room / fillerBytes));
    assert.equal(Buffer.byteLength(JSON.stringify(request), 'utf8'), bytes);
    return request;
  }

  it('accepts request metadata of exactly 8 KB and refuses 8 KB + 1 byte', () => {
    parseGenerationRequest(requestOfSize(8192, 'a'));
    refuses(requestOfSize(8193, 'a'), 'payload_too_large', 'metadata');
  });

  it('counts metadata in UTF-8 bytes too', () => {
    // 'é' is 2 bytes: about 4,100 of them exceed 8 KB although the string is only ~4,100 characters.
    refuses({ ...minimal(), metadata: { note: 'é'.repeat(4100) } }, 'payload_too_large', 'metadata');
    parseGenerationRequest({ ...minimal(), metadata: { note: 'é'.repeat(3900) } });
  });

  it('accepts metadata nested up to METADATA_MAX_DEPTH and refuses one level more', () => {
    const nestedTo = (depth: number) => {
      let nested: Record<string, unknown> = {};
      for (let i = 1; i < depth; i += 1) nested = { n: nested };
      return nested;
    };
    parseGenerationRequest({ ...minimal(), metadata: nestedTo(METADATA_MAX_DEPTH) });
    assert.throws(
      () => parseGenerationRequest({ ...minimal(), metadata: nestedTo(METADATA_MAX_DEPTH + 2) }),
      (error: unknown) => error instanceof ValidationError && error.code === 'invalid_request' && /nested/.test(error.message),
    );
  });

  it('refuses deeply nested metadata with a ValidationError, not a stack overflow', () => {
    // 3,000 levels are an 18 KB body: well under the 76 KB body limit, so this reaches the parser.
    const depth = 3000;
    const body = `{"base_id":"b","table_id":"t","record_id":"r","field_id":"f","prompt_version":"v1","inputs":{"a":"x"},"metadata":${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}}`;
    const input: unknown = JSON.parse(body);
    assert.throws(
      () => parseGenerationRequest(input),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
        assert.ok(['invalid_request', 'payload_too_large'].includes(error.code), error.code);
        assert.ok(error.message.includes('metadata'), error.message);
        return true;
      },
    );
  });
});
