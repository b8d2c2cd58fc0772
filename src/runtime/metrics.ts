/** Counters and timings, named as the dashboards and alarms name them. */
export interface Metrics {
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  timing(name: string, milliseconds: number, dimensions?: Record<string, string>): void;
  /** A level observed now (queue backlog, jobs in flight); every observation is kept. */
  gauge(name: string, value: number, dimensions?: Record<string, string>): void;
  /** Emits what has been collected so far. */
  flush(): void;
}

export const METRIC = {
  submitted: 'JobsSubmitted',
  deduplicated: 'JobsDeduplicated',
  transition: 'JobTransitions',
  llmCalls: 'LlmCalls',
  llmErrors: 'LlmErrors',
  llmLatency: 'LlmLatency',
  writebacks: 'Writebacks',
  writebackConflicts: 'WritebackConflicts',
  superseded: 'JobsSuperseded',
  ownershipLost: 'OwnershipLost',
  freshness: 'FreshnessLag',
  jobLatency: 'JobLatency',
  poisonMessages: 'PoisonMessages',
  invalidOutputs: 'InvalidOutputs',
  jobsResumed: 'JobsResumed',
  bulkRequeued: 'BulkRequeued',
  leaseTakeovers: 'LeaseTakeovers',
  queueBacklog: 'QueueBacklog',
  jobsInFlight: 'JobsInFlight',
  drainDuration: 'DrainDuration',
} as const;
