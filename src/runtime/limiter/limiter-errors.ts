import { WardenError } from '../../errors.ts';

/** The limiter was closed while this caller waited; the job should be retried by its next owner. */
export class LimiterClosedError extends WardenError {
  constructor() {
    super('limiter_closed', 'the LLM limiter was closed while waiting for admission', { retryable: true });
  }
}

/** The limiter's shared state (Redis) did not answer; nothing was admitted. */
export class LimiterUnavailableError extends WardenError {
  constructor(cause: unknown) {
    super('limiter_unavailable', `the LLM limiter's store failed: ${(cause as Error)?.message ?? String(cause)}`, { retryable: true, cause });
  }
}
