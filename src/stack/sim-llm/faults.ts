/**
 * Fault model of the simulated LLM. Rates are fractions of valid calls; durations are
 * nominal milliseconds/seconds and get multiplied by the server's timeScale.
 */

export interface SimLlmFaults {
  /** Fraction of calls answered 429 at once with retry-after. */
  rate429: number;
  /** Nominal retry-after in seconds (scaled by timeScale) sent with every 429. */
  retryAfterS: number;
  /** Fraction of calls answered 500, 502 or 503 after the sampled latency. */
  rate5xx: number;
  /** Fraction of 200 answers whose body is dribbled over slowBodyMs after the headers. */
  slowBodyRate: number;
  /** Nominal time over which a slow body is dribbled. */
  slowBodyMs: number;
  /** Fraction of calls that hang for hangMs and then close the socket without an answer. */
  timeoutRate: number;
  /** Nominal hang time of a timed-out call. */
  hangMs: number;
  /** When set (400-599), every valid call answers this status at once: a storm. */
  forceStatus: number | null;
  /** Fraction of calls answered 200 with message.refusal set and content null. */
  refusalRate: number;
}

export const DEFAULT_FAULTS: Readonly<SimLlmFaults> = Object.freeze({
  rate429: 0,
  retryAfterS: 1,
  rate5xx: 0,
  slowBodyRate: 0,
  slowBodyMs: 5000,
  timeoutRate: 0.01,
  hangMs: 60000,
  forceStatus: null,
  refusalRate: 0,
});

const RATE_FIELDS = ['rate429', 'rate5xx', 'slowBodyRate', 'timeoutRate', 'refusalRate'] as const;
const DURATION_FIELDS = ['retryAfterS', 'slowBodyMs', 'hangMs'] as const;
const KNOWN = new Set<string>([...RATE_FIELDS, ...DURATION_FIELDS, 'forceStatus']);

/** Merges `patch` onto `base`, throwing a TypeError naming the bad field. */
export function mergeFaults(base: Readonly<SimLlmFaults>, patch: unknown, where = 'faults'): SimLlmFaults {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new TypeError(`${where} must be an object`);
  }
  const p = patch as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!KNOWN.has(key)) throw new TypeError(`${where}.${key} is not a known fault`);
  }
  const next: SimLlmFaults = { ...base };
  for (const key of RATE_FIELDS) {
    const v = p[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new TypeError(`${where}.${key} must be a number in [0, 1]`);
    next[key] = v;
  }
  for (const key of DURATION_FIELDS) {
    const v = p[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`${where}.${key} must be a finite number >= 0`);
    next[key] = v;
  }
  if (p.forceStatus !== undefined) {
    const v = p.forceStatus;
    if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 400 || v > 599)) {
      throw new TypeError(`${where}.forceStatus must be null or an integer status in 400-599`);
    }
    next.forceStatus = v as number | null;
  }
  // The outcome faults share one draw, so together they must fit in [0, 1].
  const outcomeSum = next.timeoutRate + next.rate429 + next.rate5xx + next.refusalRate;
  if (outcomeSum > 1) {
    throw new TypeError(`${where}: timeoutRate + rate429 + rate5xx + refusalRate must be <= 1 (got ${outcomeSum})`);
  }
  return next;
}
