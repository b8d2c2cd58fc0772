/** Time as a port, so retry schedules and lease expiry can be tested without sleeping. */
export interface Clock {
  now(): Date;
  /** Monotonic milliseconds, immune to wall-clock jumps; for timeouts and lease validity. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  monotonicMs: () => performance.now(),
};
