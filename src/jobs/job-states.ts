/** Every state a job can be in. The terminal ones end its SQS message's life. */
export const JOB_STATES = [
  'queued', // accepted, waiting for its partition's owner (also: waiting out a retry delay)
  'leased', // taken over by a new owner from one that died mid-job; being checked again
  'running', // the LLM call is under way (the only state in which money can be spent twice)
  'generated', // the LLM result is memoized in the job item; write-back pending (pay-once point)
  'succeeded', // written back to the record
  'superseded', // the record's inputs moved on; nothing written
  'failed', // permanent error (bad prompt, refusal, record gone); needs a person
  'dead_lettered', // transient errors exhausted the attempt cap; safe to redrive
  'cancelled', // cancelled by its submitter before it started
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set([
  'succeeded',
  'superseded',
  'failed',
  'dead_lettered',
  'cancelled',
]);

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** Events that move a job. Each names what happened, not what to do next. */
export const JOB_EVENTS = [
  'reclaim', // a newer owner (higher fencing token) takes over a job left in flight
  'release', // the owner gives an unstarted job back (drain, hand-off)
  'start', // the owner claims the job: inputs current, limiter admitted, the LLM call leaves now
  'generate', // the LLM answered; the result is memoized with this very write
  'retry', // a transient failure; try again after a backoff
  'exhaust', // transient failures reached the attempt cap
  'fail', // a permanent failure
  'write', // the write-back landed (or was found already landed)
  'supersede', // the record's inputs no longer match the job's
  'cancel', // the submitter cancelled
  'redrive', // an operator sends a dead-lettered or failed job round again
] as const;
export type JobEvent = (typeof JOB_EVENTS)[number];
