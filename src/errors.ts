/**
 * One base class for every error warden raises on purpose. `code` is stable (tests, logs and the
 * HTTP error envelope key on it); `retryable: false` marks errors that no retry can fix, like
 * BullMQ's UnrecoverableError.
 */
export class WardenError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; retryable?: boolean; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

/** Input that can never become valid: a request, a message or a config value. */
export class ValidationError extends WardenError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, { retryable: false, details });
  }
}

/** The reducer was asked for a (state, event) pair that the transition table does not hold. */
export class IllegalTransitionError extends WardenError {
  constructor(readonly state: string, readonly event: string) {
    super('illegal_transition', `event '${event}' is not allowed in state '${state}'`, {
      details: { state, event },
    });
  }
}

/**
 * The conditional write that checkpoints a transition was refused: the job is no longer in the
 * state this owner saw, or a newer owner (higher fencing token) has written it. The caller's
 * result is discarded; this is an expected outcome under takeover, not a fault.
 */
export class OwnershipLostError extends WardenError {
  constructor(jobId: string, expected: string, details?: Record<string, unknown>) {
    super('ownership_lost', `job ${jobId}: checkpoint refused (expected state '${expected}' and a current token); result discarded`, {
      details: { jobId, expected, ...details },
    });
  }
}

/** The same job key was submitted earlier with a different payload. */
export class JobConflictError extends WardenError {
  constructor(jobId: string) {
    super('job_key_conflict', `job ${jobId} already exists with a different payload for the same job key`, {
      details: { jobId },
    });
  }
}

export function isWardenError(error: unknown): error is WardenError {
  return error instanceof WardenError;
}
