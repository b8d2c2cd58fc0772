import { METRIC } from './metrics.ts';

/**
 * Every metric warden publishes to CloudWatch (namespace from `metrics.namespace`, `Warden` in
 * production), with the dimension sets it is published under. Dashboards, alarms and the scaling
 * policy in `infra/` name metrics only through this catalog, and tests/deploy checks both ways:
 * every metric a dashboard or alarm names is here, and every dimension set marked `emitted` has a
 * call site in src/ that publishes exactly those dimensions.
 *
 * CloudWatch treats each dimension combination as its own metric: `LlmErrors{Service,Code}` is not
 * `LlmErrors{Service}`. An alarm cannot SEARCH or sum over unknown `Code` values, so a metric that
 * an alarm watches in total needs the `[Service]` roll-up set published too (EMF takes several
 * dimension sets in one document at no extra cost).
 */

export type MetricUnit = 'Count' | 'Milliseconds' | 'Seconds' | 'Percent';

/** `Service` is always first: EmfMetrics adds it to every dimension set. */
export type DimensionSet = readonly ['Service', ...string[]];

export interface DimensionSetSpec {
  dimensions: DimensionSet;
  /** True when src/ publishes this set today; false: the design needs it, the code does not yet. */
  emitted: boolean;
}

export interface MetricSpec {
  /** The CloudWatch metric name. */
  name: string;
  unit: MetricUnit;
  /** `counter`: summed per period. `timing`: a distribution (p50/p95). `gauge`: a sampled level. */
  kind: 'counter' | 'timing' | 'gauge';
  dimensionSets: readonly DimensionSetSpec[];
  /** What it means and, for a gauge, how it is sampled (which statistic reads it right). */
  description: string;
}

const SERVICE: DimensionSet = ['Service'];
const now = (dimensions: DimensionSet = SERVICE): DimensionSetSpec => ({ dimensions, emitted: true });
const pending = (dimensions: DimensionSet = SERVICE): DimensionSetSpec => ({ dimensions, emitted: false });

/** Metrics the code names in METRIC, keyed like METRIC. */
const FROM_METRIC = {
  submitted: { name: METRIC.submitted, unit: 'Count', kind: 'counter', dimensionSets: [now()], description: 'Jobs created (HTTP API or producer message).' },
  deduplicated: {
    name: METRIC.deduplicated,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now()],
    description: 'Submissions answered with an existing job of the same key: duplicates suppressed at the door.',
  },
  transition: {
    name: METRIC.transition,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now(['Service', 'State'])],
    description: 'Checkpointed transitions by the state entered; State=succeeded / failed / dead_lettered / superseded give the success ratio.',
  },
  llmCalls: { name: METRIC.llmCalls, unit: 'Count', kind: 'counter', dimensionSets: [now()], description: 'LLM calls started.' },
  llmErrors: {
    name: METRIC.llmErrors,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now(['Service', 'Code']), pending()],
    description: 'LLM calls that failed, by error code; the [Service] roll-up feeds the provider-outage alarm.',
  },
  llmLatency: { name: METRIC.llmLatency, unit: 'Milliseconds', kind: 'timing', dimensionSets: [now()], description: 'LLM call duration (p50 / p95 on the dashboard).' },
  writebacks: { name: METRIC.writebacks, unit: 'Count', kind: 'counter', dimensionSets: [now()], description: 'Results written back to the record store.' },
  writebackConflicts: {
    name: METRIC.writebackConflicts,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now()],
    description: 'Write-backs refused with 412 (the record moved) and decided again.',
  },
  superseded: { name: METRIC.superseded, unit: 'Count', kind: 'counter', dimensionSets: [now()], description: 'Jobs ended as superseded: the record inputs changed.' },
  ownershipLost: {
    name: METRIC.ownershipLost,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now()],
    description: 'Writes refused because a newer owner holds the partition (fencing token older than stored).',
  },
  freshness: {
    name: METRIC.freshness,
    unit: 'Milliseconds',
    kind: 'timing',
    dimensionSets: [pending()],
    description: 'Submission to successful write-back, per job; the target is p99 under 120 000 ms.',
  },
  jobLatency: { name: METRIC.jobLatency, unit: 'Milliseconds', kind: 'timing', dimensionSets: [pending()], description: 'Claim to terminal state, per job.' },
  poisonMessages: {
    name: METRIC.poisonMessages,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now()],
    description: 'Messages that could not be parsed or validated, moved to the permanent DLQ.',
  },
  jobsResumed: {
    name: METRIC.jobsResumed,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now()],
    description: 'Unfinished jobs picked up by the takeover scan when an actor starts on a partition.',
  },
  bulkRequeued: {
    name: METRIC.bulkRequeued,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now()],
    description: 'Bulk messages handed back to their queue because the actor already held its share of bulk jobs waiting for capacity.',
  },
  invalidOutputs: {
    name: METRIC.invalidOutputs,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now(['Service', 'Code'])],
    description: 'LLM outputs refused by the data-quality gate, by reason; never stored or written back.',
  },
  leaseTakeovers: {
    name: METRIC.leaseTakeovers,
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [now()],
    description: 'Partition leases taken over from a member that stopped heartbeating (not handed over by a drain).',
  },
  queueBacklog: {
    name: METRIC.queueBacklog,
    unit: 'Count',
    kind: 'gauge',
    dimensionSets: [now()],
    description:
      'Messages visible (waiting) summed over all partition queues. Every supervisor samples all queues (GetQueueAttributes) ' +
      'every 60 s and publishes the same fleet-wide figure, so Maximum per minute is right whoever is alive. ' +
      'The scaling policy divides it by GroupInServiceInstances (backlog per instance).',
  },
  jobsInFlight: {
    name: METRIC.jobsInFlight,
    unit: 'Count',
    kind: 'gauge',
    dimensionSets: [now()],
    description: 'Jobs this member has in flight, sampled every 60 s by each supervisor; Sum over a 60 s period is the fleet.',
  },
  drainDuration: {
    name: METRIC.drainDuration,
    unit: 'Milliseconds',
    kind: 'timing',
    dimensionSets: [now()],
    description: 'SIGTERM or lifecycle hook to drained; must stay under the 90 s drain budget.',
  },
} as const satisfies Record<keyof typeof METRIC, MetricSpec>;

/** Metrics the design (and the dashboards) need that have no METRIC key yet. */
const DESIGN_ONLY = {
  oldestMessageAge: {
    name: 'OldestMessageAge',
    unit: 'Seconds',
    kind: 'gauge',
    dimensionSets: [pending()],
    description: 'Age of the oldest waiting message over all partition queues, sampled with QueueBacklog; read with Maximum.',
  },
  duplicateDeliveries: {
    name: 'DuplicateDeliveries',
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [pending()],
    description: 'Redelivered messages for a job already finished or held by another field lock: deleted without a second write.',
  },
  limiterSaturation: {
    name: 'LimiterSaturation',
    unit: 'Percent',
    kind: 'gauge',
    dimensionSets: [pending()],
    description: 'Share of the global limiter budget (requests and tokens per minute) in use, sampled per member; read with Maximum.',
  },
  limiterWaitTime: {
    name: 'LimiterWait',
    unit: 'Milliseconds',
    kind: 'timing',
    dimensionSets: [pending()],
    description: 'Time a job waited for the limiter before its LLM call (interactive jobs should stay near 0).',
  },
  lifecycleCompletions: {
    name: 'LifecycleActionsCompleted',
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [pending()],
    description: 'Auto Scaling termination lifecycle actions completed with CONTINUE after a drain.',
  },
  leaseStoreErrors: {
    name: 'LeaseStoreErrors',
    unit: 'Count',
    kind: 'counter',
    dimensionSets: [pending()],
    description: 'Failed Redis lease / membership / limiter commands (a Redis failover shows as a burst).',
  },
} as const satisfies Record<string, MetricSpec>;

export const METRIC_CATALOG = { ...FROM_METRIC, ...DESIGN_ONLY } as const satisfies Record<string, MetricSpec>;

export type CatalogKey = keyof typeof METRIC_CATALOG;

/** The spec of a metric by its CloudWatch name, or undefined. */
export function metricByName(name: string): MetricSpec | undefined {
  return Object.values(METRIC_CATALOG).find((spec) => spec.name === name);
}

/** True when `dimensions` (any order) is one of the metric's dimension sets. */
export function hasDimensionSet(spec: MetricSpec, dimensions: readonly string[]): boolean {
  const wanted = [...dimensions].sort().join(',');
  return spec.dimensionSets.some((set) => [...set.dimensions].sort().join(',') === wanted);
}
