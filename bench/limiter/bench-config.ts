/** What the bench parent hands each worker (as JSON in argv[2]). */
export interface WorkerConfig {
  redisUrl: string;
  keyPrefix: string;
  worker: number;
  rpm: number;
  tpm: number;
  burstMs: number;
  bulkReserveFraction: number;
  tenantShare: number;
  tenants: number;
  concurrency: number;
  /** 'mixed': one acquirer in five is interactive. */
  priority: 'interactive' | 'bulk' | 'mixed';
  minTokens: number;
  maxTokens: number;
}

/** Parent → worker, once every worker is connected. Epoch ms (all processes share this machine's clock). */
export interface StartMessage {
  type: 'start';
  measureFrom: number;
  measureTo: number;
  /** Workers keep going this long after measureTo, then stop. */
  graceMs: number;
}

export interface WaitStats {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Worker → parent, after measureTo. Counts are for admissions inside [measureFrom, measureTo). */
export interface WorkerResult {
  type: 'result';
  worker: number;
  admissions: number;
  estimatedTokens: number;
  actualTokens: number;
  /** Reconciles whose usage differed from the estimate (each one a change for the bucket). */
  reconciles: number;
  /** Admission attempts made in the window (an admission after a place in line takes two). */
  attempts: number;
  /**
   * Store calls made in the window, each one Redis round trip: admission calls (a batch of
   * attempts, carrying the adjustments summed since the last call), adjustments sent on their
   * own, anything else (none in the bench).
   */
  admitCalls: number;
  adjustCalls: number;
  otherCalls: number;
  waits: Record<'interactive' | 'bulk', WaitStats>;
  errors: number;
}

export const BUCKET = { provider: 'bench', model: 'bench-model' } as const;
