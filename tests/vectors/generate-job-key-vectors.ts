/**
 * Writes tests/vectors/job-key-vectors.json. Deliberately shares no code with src/: it carries its
 * own tiny canonical JSON encoder (ECMAScript JSON string escaping, keys sorted, no whitespace) so
 * the committed hashes are an independent statement of the job key contract (DESIGN §4.1):
 *
 *   input_hash = sha256(canonical(inputs))
 *   job_key    = sha256(canonical([base_id, table_id, record_id, field_id, prompt_version, input_hash]))
 *
 * Regenerate only when the contract itself changes (every stored job key changes with it):
 *   node --import tsx tests/vectors/generate-job-key-vectors.ts
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Scalar = string | number | boolean | null;

function encodeString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit === 0x22) out += '\\"';
    else if (unit === 0x5c) out += '\\\\';
    else if (unit === 0x08) out += '\\b';
    else if (unit === 0x0c) out += '\\f';
    else if (unit === 0x0a) out += '\\n';
    else if (unit === 0x0d) out += '\\r';
    else if (unit === 0x09) out += '\\t';
    else if (unit < 0x20) out += `\\u${unit.toString(16).padStart(4, '0')}`;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i += 1;
      } else out += `\\u${unit.toString(16)}`; // lone high surrogate
    } else if (unit >= 0xdc00 && unit <= 0xdfff) out += `\\u${unit.toString(16)}`; // lone low surrogate
    else out += text[i]!;
  }
  return `${out}"`;
}

function encodeScalar(value: Scalar): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('non-finite');
    return Object.is(value, -0) ? '0' : String(value);
  }
  return encodeString(value);
}

function encodeInputs(inputs: Record<string, Scalar>): string {
  const keys = Object.keys(inputs).sort();
  return `{${keys.map((key) => `${encodeString(key)}:${encodeScalar(inputs[key]!)}`).join(',')}}`;
}

const sha256 = (text: string) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

interface Case {
  name: string;
  why: string;
  request: {
    base_id: string;
    table_id: string;
    record_id: string;
    field_id: string;
    prompt_version: string;
    inputs: Record<string, Scalar>;
  };
}

const base = { base_id: 'appBase01', table_id: 'tblDeals', field_id: 'fldSummary', prompt_version: 'summary-v1' };

const cases: Case[] = [
  {
    name: 'minimal',
    why: 'one string input',
    request: { ...base, record_id: 'rec001', inputs: { notes: 'Call back on Monday' } },
  },
  {
    name: 'inputs-order-ab',
    why: 'same inputs as inputs-order-ba written in the other key order: same key',
    request: { ...base, record_id: 'rec002', inputs: { alpha: 'one', beta: 'two', gamma: 3 } },
  },
  {
    name: 'inputs-order-ba',
    why: 'same inputs as inputs-order-ab written in the other key order: same key',
    request: { ...base, record_id: 'rec002', inputs: { gamma: 3, beta: 'two', alpha: 'one' } },
  },
  {
    name: 'scalar-types',
    why: 'numbers, booleans and null encode as JSON literals',
    request: {
      ...base,
      record_id: 'rec003',
      inputs: { amount: 1250.5, count: 0, big: 1e21, tiny: 1e-7, sum: 0.1 + 0.2, negative: -42, active: true, archived: false, owner: null },
    },
  },
  {
    name: 'number-vs-string',
    why: 'the string "1" is not the number 1, and "null" is not null',
    request: { ...base, record_id: 'rec003', inputs: { count: '1', owner: 'null', active: 'true' } },
  },
  {
    name: 'number-one',
    why: 'the number 1 (compare number-vs-string)',
    request: { ...base, record_id: 'rec003', inputs: { count: 1, owner: null, active: true } },
  },
  {
    name: 'unicode-ids-and-values',
    why: 'non-ASCII ids and values are hashed as raw UTF-8, astral characters included',
    request: {
      base_id: 'bäse-😀',
      table_id: 'テーブル',
      record_id: 'ré©ord',
      field_id: 'поле',
      prompt_version: 'summary-v1',
      inputs: { name: 'Zoë Ångström', city: '北京', emoji: '👍🏽 ok', rtl: 'שלום' },
    },
  },
  {
    name: 'escapes-in-values',
    why: 'quotes, backslashes, control characters, U+2028 and a lone surrogate escape exactly as JSON.stringify does',
    request: {
      ...base,
      record_id: 'rec004',
      inputs: { quote: 'say "hi"', slash: 'C:\\path\\', ctrl: 'a\u0000b\u001fc\td\ne\rf\bg\fh', sep: 'line\u2028sep', lone: 'x\ud800y' },
    },
  },
  {
    name: 'separator-record-a|b-field-c',
    why: "record 'a|b' + field 'c' must not collide with record 'a' + field 'b|c'",
    request: { ...base, record_id: 'a|b', field_id: 'c', inputs: { x: 'y' } },
  },
  {
    name: 'separator-record-a-field-b|c',
    why: "record 'a' + field 'b|c' must not collide with record 'a|b' + field 'c'",
    request: { ...base, record_id: 'a', field_id: 'b|c', inputs: { x: 'y' } },
  },
  {
    name: 'separator-comma-quote-1',
    why: 'a comma and quotes inside an id cannot forge an array boundary',
    request: { ...base, record_id: 'a","b', field_id: 'c', inputs: { x: 'y' } },
  },
  {
    name: 'separator-comma-quote-2',
    why: 'compare separator-comma-quote-1: the ids a / b","c',
    request: { ...base, record_id: 'a', field_id: 'b","c', inputs: { x: 'y' } },
  },
  {
    name: 'separator-in-input-values',
    why: 'one input whose value looks like two inputs (a = 1,"b":"2) differs from the two inputs a = 1, b = 2',
    request: { ...base, record_id: 'rec005', inputs: { a: '1,"b":"2' } },
  },
  {
    name: 'separator-in-input-values-split',
    why: 'compare separator-in-input-values',
    request: { ...base, record_id: 'rec005', inputs: { a: '1', b: '2' } },
  },
  {
    name: 'prompt-version-change',
    why: 'the same request under another prompt version is another job',
    request: { ...base, prompt_version: 'summary-v2', record_id: 'rec001', inputs: { notes: 'Call back on Monday' } },
  },
];

const vectors = cases.map(({ name, why, request }) => {
  const inputsCanonical = encodeInputs(request.inputs);
  const inputHash = sha256(inputsCanonical);
  const keyCanonical = `[${[request.base_id, request.table_id, request.record_id, request.field_id, request.prompt_version, inputHash]
    .map(encodeString)
    .join(',')}]`;
  return { name, why, request, inputs_canonical: inputsCanonical, input_hash: inputHash, key_canonical: keyCanonical, job_key: sha256(keyCanonical) };
});

const file = fileURLToPath(new URL('./job-key-vectors.json', import.meta.url));
writeFileSync(
  file,
  `${JSON.stringify(
    {
      description:
        'Job key test vectors (DESIGN §4.1), computed by tests/vectors/generate-job-key-vectors.ts with an encoder independent of src/. ' +
        'input_hash = sha256(inputs_canonical); job_key = sha256(key_canonical); both over UTF-8.',
      equivalent: [['inputs-order-ab', 'inputs-order-ba']],
      vectors,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${vectors.length} vectors to ${file}`);
