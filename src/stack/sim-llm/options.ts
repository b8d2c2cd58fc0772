/** Options of the simulated LLM, with defaults from DESIGN.md §2 (P50 4 s, P95 20 s, 60 s timeouts). */
import { DEFAULT_FAULTS, mergeFaults, type SimLlmFaults } from './faults.ts';
import { checkHostPort } from './http-io.ts';

export interface SimLlmOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Multiplies every latency, hang, slow body and retry-after; e.g. 0.001 in tests. Default 1. */
  timeScale?: number;
  /** Median latency in ms before scaling. Default 4000. */
  p50Ms?: number;
  /** 95th-percentile latency in ms before scaling. Default 20000. */
  p95Ms?: number;
  /** Fraction of calls that hang and close without an answer. Default 0.01. */
  timeoutRate?: number;
  /** Nominal hang of a timed-out call in ms. Default 60000. */
  hangMs?: number;
  /** PRNG seed. Default 1, so runs are reproducible unless asked otherwise. */
  seed?: number;
  /** When set, calls need `Authorization: Bearer <apiKey>` or get 401. */
  apiKey?: string;
  /** Accepted model names; any model when unset. */
  models?: string[];
  /** Initial faults; they override timeoutRate/hangMs above. */
  faults?: Partial<SimLlmFaults>;
  /** Largest accepted request body in bytes. Default 1 MiB (prompts are up to 64 KB). */
  maxBodyBytes?: number;
}

export interface ResolvedSimLlmOptions {
  host: string;
  port: number;
  timeScale: number;
  p50Ms: number;
  p95Ms: number;
  seed: number;
  apiKey: string | undefined;
  models: ReadonlySet<string> | null;
  faults: SimLlmFaults;
  maxBodyBytes: number;
}

function positive(name: string, v: unknown, dflt: number): number {
  const n = v ?? dflt;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) throw new TypeError(`simLlm.${name} must be a finite number > 0`);
  return n;
}

export function resolveSimLlmOptions(options: SimLlmOptions = {}): ResolvedSimLlmOptions {
  const { host, port } = checkHostPort('simLlm', options.host, options.port);
  const timeScale = positive('timeScale', options.timeScale, 1);
  const p50Ms = positive('p50Ms', options.p50Ms, 4000);
  const p95Ms = positive('p95Ms', options.p95Ms, 20000);
  if (p95Ms < p50Ms) throw new TypeError('simLlm.p95Ms must be >= simLlm.p50Ms');
  const seed = options.seed ?? 1;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new TypeError('simLlm.seed must be an integer');
  const apiKey = options.apiKey;
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey === '')) {
    throw new TypeError('simLlm.apiKey must be a non-empty string when set');
  }
  let models: ReadonlySet<string> | null = null;
  if (options.models !== undefined) {
    if (!Array.isArray(options.models) || options.models.some((m) => typeof m !== 'string' || m === '')) {
      throw new TypeError('simLlm.models must be an array of non-empty strings');
    }
    models = new Set(options.models);
  }
  const maxBodyBytes = positive('maxBodyBytes', options.maxBodyBytes, 1024 * 1024);
  const base: Record<string, unknown> = {};
  if (options.timeoutRate !== undefined) base.timeoutRate = options.timeoutRate;
  if (options.hangMs !== undefined) base.hangMs = options.hangMs;
  let faults = mergeFaults(DEFAULT_FAULTS, base, 'simLlm');
  faults = mergeFaults(faults, options.faults ?? {}, 'simLlm.faults');
  return { host, port, timeScale, p50Ms, p95Ms, seed, apiKey, models, faults, maxBodyBytes };
}
