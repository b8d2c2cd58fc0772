import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import type { GenerationRequest, InputValues } from './generation-request.ts';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 over the canonical JSON of the input fields (ids and values) the generation reads. */
export function inputHash(inputs: InputValues): string {
  return sha256Hex(canonicalJson(inputs));
}

/**
 * The job key (DESIGN §4.1): SHA-256 over the canonical JSON array
 * [base_id, table_id, record_id, field_id, prompt_version, input_hash]. A JSON array of strings
 * has exactly one encoding, so no separator can be forged by an id containing it.
 */
export function jobKey(request: Pick<GenerationRequest, 'base_id' | 'table_id' | 'record_id' | 'field_id' | 'prompt_version' | 'inputs'>): string {
  return sha256Hex(
    canonicalJson([
      request.base_id,
      request.table_id,
      request.record_id,
      request.field_id,
      request.prompt_version,
      inputHash(request.inputs),
    ]),
  );
}

/** SHA-256 of the prompt context bytes; also the digest its stored copy is checked against. */
export function contextDigest(context: string): string {
  return createHash('sha256').update(context, 'utf8').digest('hex');
}

/**
 * What else, beyond the key, shapes the generated value. The same key arriving with a different
 * fingerprint is a conflict (409), not a duplicate. The context enters by its digest, so a
 * producer that has already stored it (claim check) fingerprints it exactly as the API does.
 * Priority, source and free-form metadata are left out on purpose: a webhook replayed from another
 * surface is still the same request.
 */
export function payloadFingerprint(contextSha256: string | undefined, output: GenerationRequest['output']): string {
  // Defaults are spelled out so that `output: {}` and no `output` at all fingerprint alike.
  const normalizedOutput = { format: output?.format ?? 'text', max_length: output?.max_length ?? null };
  return sha256Hex(canonicalJson({ context_sha256: contextSha256 ?? null, output: normalizedOutput }));
}
