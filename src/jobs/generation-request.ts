import { Ajv, type ErrorObject } from 'ajv';
import { ValidationError } from '../errors.ts';
import { canonicalJson } from './canonical-json.ts';

export type InputValue = string | number | boolean | null;
export type InputValues = Record<string, InputValue>;
export type Priority = 'interactive' | 'bulk';

/** One "generate this field of this record with this prompt" request (DESIGN §5). */
export interface GenerationRequest {
  base_id: string;
  table_id: string;
  record_id: string;
  field_id: string;
  prompt_version: string;
  /** The record fields the prompt reads, as the caller saw them; the write-back re-checks them. */
  inputs: InputValues;
  /** Extra prompt context (up to 64 KB); stored in S3, the job carries a claim check. */
  context?: string;
  output?: { max_length?: number; format?: 'text' | 'json' };
  priority?: Priority;
  source?: 'automation' | 'interface' | 'api' | 'backfill';
  metadata?: Record<string, unknown>;
}

export const METADATA_LIMIT_BYTES = 8 * 1024;
export const CONTEXT_LIMIT_BYTES = 64 * 1024;
/** A body above this cannot hold a valid request: refuse it before parsing (413). */
export const BODY_LIMIT_BYTES = METADATA_LIMIT_BYTES + CONTEXT_LIMIT_BYTES + 4 * 1024;

const id = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } as const;

/** The one JSON schema for a generation request, used by the API, the producer and the consumer. */
export const generationRequestSchema = {
  $id: 'https://warden.dev/schemas/generation-request.json',
  type: 'object',
  additionalProperties: false,
  required: ['base_id', 'table_id', 'record_id', 'field_id', 'prompt_version', 'inputs'],
  properties: {
    base_id: id,
    table_id: id,
    record_id: id,
    field_id: id,
    prompt_version: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    inputs: {
      type: 'object',
      minProperties: 1,
      maxProperties: 64,
      propertyNames: { pattern: '^[A-Za-z0-9_-]{1,64}$' },
      additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
    },
    context: { type: 'string' },
    output: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_length: { type: 'integer', minimum: 1, maximum: 100000 },
        format: { enum: ['text', 'json'] },
      },
    },
    priority: { enum: ['interactive', 'bulk'] },
    source: { enum: ['automation', 'interface', 'api', 'backfill'] },
    metadata: { type: 'object', maxProperties: 32 },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
const validateShape = ajv.compile(generationRequestSchema);

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'request does not match the schema';
  const where = error.instancePath === '' ? 'request' : error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'additionalProperties') {
    return `${where} has an unknown field '${String(error.params['additionalProperty'])}'`;
  }
  if (error.keyword === 'required') return `${where} is missing '${String(error.params['missingProperty'])}'`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** Metadata deeper than this is refused before any recursive walk can exhaust the stack. */
export const METADATA_MAX_DEPTH = 16;

/** Nesting depth of a JSON value, measured without recursion (the value may be hostile). */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    if (node !== null && typeof node === 'object') {
      for (const child of Object.values(node as Record<string, unknown>)) stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** DynamoDB's smallest non-zero magnitude; the SDK's marshaller refuses unsafe integers. */
const MIN_MAGNITUDE = 1e-130;

/**
 * What the schema cannot say: every string is valid Unicode (no lone surrogate), every number is
 * one DynamoDB and the SDK store as sent, and no key is '__proto__' (the SDK's marshaller turns
 * it into an empty attribute). Iterative: the value may be hostile.
 */
function checkStorable(value: unknown): void {
  const stack: Array<[unknown, string]> = [[value, 'request']];
  while (stack.length > 0) {
    const [node, where] = stack.pop() as [unknown, string];
    if (typeof node === 'string') {
      if (LONE_SURROGATE.test(node)) throw new ValidationError('invalid_request', `${where} is not valid Unicode (lone surrogate)`);
    } else if (typeof node === 'number') {
      if (!Number.isFinite(node) || Math.abs(node) > Number.MAX_SAFE_INTEGER || (node !== 0 && Math.abs(node) < MIN_MAGNITUDE)) {
        throw new ValidationError('invalid_request', `${where} must be a number within ±${Number.MAX_SAFE_INTEGER}`);
      }
    } else if (node !== null && typeof node === 'object') {
      for (const key of Object.keys(node)) {
        if (key === '__proto__') throw new ValidationError('invalid_request', `${where} has a forbidden key '__proto__'`);
        if (LONE_SURROGATE.test(key)) throw new ValidationError('invalid_request', `${where} has a key that is not valid Unicode`);
        stack.push([(node as Record<string, unknown>)[key], `${where}.${key}`.slice(0, 200)]);
      }
    }
  }
}

/**
 * Validates anything that claims to be a generation request. Throws ValidationError with code
 * `invalid_request` (shape) or `payload_too_large` (metadata over 8 KB, context over 64 KB).
 */
export function parseGenerationRequest(input: unknown): GenerationRequest {
  if (!validateShape(input)) {
    throw new ValidationError('invalid_request', describe(validateShape.errors?.[0]));
  }
  const request = input as unknown as GenerationRequest;
  if (request.metadata !== undefined && depthOf(request.metadata, METADATA_MAX_DEPTH) > METADATA_MAX_DEPTH) {
    throw new ValidationError('invalid_request', `metadata is nested deeper than ${METADATA_MAX_DEPTH} levels`);
  }
  checkStorable(request);
  const contextBytes = request.context === undefined ? 0 : Buffer.byteLength(request.context, 'utf8');
  if (contextBytes > CONTEXT_LIMIT_BYTES) {
    throw new ValidationError('payload_too_large', `context is ${contextBytes} bytes; the limit is ${CONTEXT_LIMIT_BYTES}`);
  }
  const { context: _context, ...metadata } = request;
  const metadataBytes = Buffer.byteLength(canonicalJson(metadata), 'utf8');
  if (metadataBytes > METADATA_LIMIT_BYTES) {
    throw new ValidationError('payload_too_large', `request metadata is ${metadataBytes} bytes; the limit is ${METADATA_LIMIT_BYTES}`);
  }
  return request;
}
