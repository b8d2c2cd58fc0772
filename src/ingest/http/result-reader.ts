import type { JobRecord } from '../../jobs/job-record.ts';
import type { AccessLog } from '../../runtime/access-log/access-log.ts';
import type { Clock } from '../../runtime/clock.ts';

/** Who is reading a result: `who` as in the access log, and the tenant the job belongs to. */
export interface ResultCaller {
  who: string;
  tenant: string;
}

/**
 * Turns a job's stored result into the text the client gets. Injected into IngestApi so the
 * runtime can decrypt and log the access; called only for a job of the caller's tenant that has a
 * result. A `WardenError` with code `not_found` becomes 404; anything else, 500.
 */
export type ResultReader = (job: JobRecord, caller: ResultCaller) => Promise<string>;

/** The default: the memo's text as stored (no encryption, no access log). */
export const plainResultReader: ResultReader = async (job) => job.result?.text ?? '';

/**
 * A reader that appends `{who, tenant, job, purpose: 'api_result', at}` to the access log before
 * the result is opened, then opens it with `open` (e.g. `(job) => openResult(cipher, job)`). If
 * the append fails, the result is not returned: no read without its record.
 */
export function accessLoggedResultReader(deps: {
  accessLog: AccessLog;
  clock: Clock;
  open?: (job: JobRecord) => Promise<string | undefined>;
}): ResultReader {
  const open = deps.open ?? (async (job: JobRecord) => job.result?.text);
  return async (job, caller) => {
    await deps.accessLog.append({ who: caller.who, tenant: caller.tenant, jobId: job.id, purpose: 'api_result', at: deps.clock.now() });
    return (await open(job)) ?? '';
  };
}
