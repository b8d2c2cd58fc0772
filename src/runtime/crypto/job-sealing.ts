import type { InputValues } from '../../jobs/generation-request.ts';
import type { JobRecord } from '../../jobs/job-record.ts';
import { isSealedText, payloadAad, type PayloadCipher } from './payload-cipher.ts';

/** The field ids with their values withheld: enough for the currency check and the write-back. */
export function withheldInputs(inputs: InputValues): InputValues {
  return Object.fromEntries(Object.keys(inputs).map((fieldId) => [fieldId, null]));
}

/** Seals the input values for this job; the item keeps only their field ids. */
export function sealInputs(cipher: PayloadCipher, jobId: string, inputs: InputValues): Promise<string> {
  return cipher.sealText(JSON.stringify(inputs), payloadAad(jobId, 'request'));
}

/** The input values of a job, opened when sealed (items written before sealing are plaintext). */
export async function openInputs(cipher: PayloadCipher, job: JobRecord): Promise<InputValues> {
  if (!job.inputs_sealed) return job.request.inputs;
  return JSON.parse(await cipher.openText(job.inputs_sealed, payloadAad(job.id, 'request'))) as InputValues;
}

export function sealResult(cipher: PayloadCipher, jobId: string, text: string): Promise<string> {
  return cipher.sealText(text, payloadAad(jobId, 'llm_result'));
}

/** The memoized result's text, opened when sealed. */
export async function openResult(cipher: PayloadCipher, job: JobRecord): Promise<string | undefined> {
  const text = job.result?.text;
  if (text === undefined) return undefined;
  return isSealedText(text) ? cipher.openText(text, payloadAad(job.id, 'llm_result')) : text;
}
