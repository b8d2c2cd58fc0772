import type { InputValue } from './generation-request.ts';
import { inputHash } from './job-key.ts';

/**
 * Does the record still hold the inputs the job was computed from? Hashes the record's current
 * values of the job's input fields the same way the job's input_hash was made. A field the record
 * no longer has counts as null, so a deleted input supersedes the job.
 */
export function inputsStillCurrent(
  inputFieldIds: string[],
  expectedInputHash: string,
  currentFields: Record<string, unknown>,
): boolean {
  const current: Record<string, InputValue> = {};
  for (const fieldId of inputFieldIds) {
    const value = currentFields[fieldId];
    current[fieldId] =
      value === undefined ? null : typeof value === 'object' && value !== null ? JSON.stringify(value) : (value as InputValue);
  }
  return inputHash(current) === expectedInputHash;
}
