/**
 * Capped exponential backoff with full jitter: delay = random(0, min(max, base * 2^(attempt-1))).
 * Full jitter spreads a fleet's retries after a provider incident instead of synchronizing them.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** The provider's retry-after wins when it asks for more patience than our own schedule. */
export function retryDelayMs(attempt: number, options: { baseMs: number; maxMs: number; retryAfterMs?: number }, random?: () => number): number {
  const own = backoffDelayMs(attempt, options.baseMs, options.maxMs, random);
  return Math.max(own, options.retryAfterMs ?? 0);
}
