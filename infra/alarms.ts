import type { MetricDataQuery, ResourceProperties, Value } from './cfn.ts';
import type { MetricRef } from './metrics.ts';
import { awsMetric, wardenMetric } from './metrics.ts';
import type { DeploymentNames } from './names.ts';

/**
 * The alarms, each pointing at the runbook (docs/operations.md) that answers it. `deployGate`
 * alarms are the ones an instance refresh watches for auto-rollback: they move when a bad release
 * is rolling out, not when a provider has a bad day.
 */
export interface AlarmSpec {
  logicalId: string;
  runbook: string;
  deployGate: boolean;
  properties: ResourceProperties['AWS::CloudWatch::Alarm'];
}

function stat(id: string, metric: MetricRef, statistic: string, period = 60): MetricDataQuery {
  return {
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: { Namespace: metric.namespace, MetricName: metric.name, Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })) },
      Period: period,
      Stat: statistic,
    },
  };
}

function single(metric: MetricRef) {
  return {
    Namespace: metric.namespace,
    MetricName: metric.name,
    Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
  };
}

export function buildAlarms(names: DeploymentNames, topicArn: Value): AlarmSpec[] {
  const s = names.service;
  const w = (key: Parameters<typeof wardenMetric>[0], extra?: Record<string, string>) => wardenMetric(key, s, extra);
  const actions = { AlarmActions: [topicArn], OKActions: [topicArn] };
  const name = (suffix: string) => `${names.alarmPrefix}-${suffix}`;
  const specs: Array<Omit<AlarmSpec, 'properties'> & { properties: Omit<ResourceProperties['AWS::CloudWatch::Alarm'], 'AlarmActions' | 'OKActions'> }> = [
    {
      logicalId: 'AlarmDeadLettersTransient',
      runbook: 'Redrive dead letters',
      deployGate: false,
      properties: {
        AlarmName: name('dead-letters-transient'),
        AlarmDescription: 'Jobs exhausted their retries and wait in the transient DLQ. Runbook: docs/operations.md#redrive-dead-letters',
        ...single(awsMetric('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: names.dlqTransient })),
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmDeadLettersPermanent',
      runbook: 'Redrive dead letters',
      deployGate: false,
      properties: {
        AlarmName: name('dead-letters-permanent'),
        AlarmDescription: 'Messages in the permanent DLQ (bad input, permanent refusals, poison). Runbook: docs/operations.md#redrive-dead-letters',
        ...single(awsMetric('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: names.dlqPermanent })),
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmOldestMessageAge',
      runbook: 'Stuck partition',
      deployGate: false,
      properties: {
        AlarmName: name('oldest-message-age'),
        AlarmDescription: 'A message has waited over 5 minutes: a partition is not being consumed. Runbook: docs/operations.md#stuck-partition',
        ...single(w('oldestMessageAge')),
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        Threshold: 300,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
      },
    },
    {
      logicalId: 'AlarmFreshness',
      runbook: 'Stuck partition',
      deployGate: true,
      properties: {
        AlarmName: name('freshness-p99'),
        AlarmDescription: 'p99 submit-to-write-back over 2 minutes (the freshness target). Runbook: docs/operations.md#stuck-partition',
        ...single(w('freshness')),
        ExtendedStatistic: 'p99',
        Period: 300,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 120_000,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmSuccessRatio',
      runbook: 'Roll back',
      deployGate: true,
      properties: {
        AlarmName: name('success-ratio'),
        AlarmDescription: 'Under 95% of finished jobs succeeded over 15 minutes (superseded excluded). Runbook: docs/operations.md#roll-back',
        Metrics: [
          stat('ok', w('transition', { State: 'succeeded' }), 'Sum', 300),
          stat('failed', w('transition', { State: 'failed' }), 'Sum', 300),
          stat('dead', w('transition', { State: 'dead_lettered' }), 'Sum', 300),
          { Id: 'ratio', Expression: 'IF(ok + failed + dead > 20, 100 * ok / (ok + failed + dead), 100)', Label: 'success ratio %', ReturnData: true },
        ],
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Threshold: 95,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmLlmErrorRatio',
      runbook: 'Provider outage',
      deployGate: false,
      properties: {
        AlarmName: name('llm-error-ratio'),
        AlarmDescription: 'Over 20% of LLM calls failed for 5 minutes. Runbook: docs/operations.md#provider-outage',
        Metrics: [
          stat('errors', w('llmErrors'), 'Sum'),
          stat('calls', w('llmCalls'), 'Sum'),
          { Id: 'ratio', Expression: 'IF(calls > 10, 100 * errors / calls, 0)', Label: 'LLM error %', ReturnData: true },
        ],
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        Threshold: 20,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmLimiterSaturation',
      runbook: 'Provider outage',
      deployGate: false,
      properties: {
        AlarmName: name('limiter-saturation'),
        AlarmDescription: 'The global LLM limiter has been above 95% for 15 minutes: backfills wait, interactive freshness at risk. Runbook: docs/operations.md#provider-outage',
        ...single(w('limiterSaturation')),
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 3,
        Threshold: 95,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmLeaseTakeovers',
      runbook: 'Stuck partition',
      deployGate: true,
      properties: {
        AlarmName: name('lease-takeovers'),
        AlarmDescription: 'Partitions taken over from silent members more than 10 times in 5 minutes: supervisors are dying or stalling. Runbook: docs/operations.md#stuck-partition',
        ...single(w('leaseTakeovers')),
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmLeaseStoreErrors',
      runbook: 'Redis failover',
      deployGate: false,
      properties: {
        AlarmName: name('lease-store-errors'),
        AlarmDescription: 'Redis commands failing for 3 minutes (failover, network, auth). Runbook: docs/operations.md#recover-from-a-redis-failover',
        ...single(w('leaseStoreErrors')),
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmDrainOverBudget',
      runbook: 'Drain an instance',
      deployGate: false,
      properties: {
        AlarmName: name('drain-over-budget'),
        AlarmDescription: 'A drain took longer than the 90 s budget. Runbook: docs/operations.md#drain-an-instance',
        ...single(w('drainDuration')),
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 90_000,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
    {
      logicalId: 'AlarmPoisonMessages',
      runbook: 'Roll back',
      deployGate: true,
      properties: {
        AlarmName: name('poison-messages'),
        AlarmDescription: 'Messages the consumers cannot parse: a producer/consumer version mismatch after a deploy. Runbook: docs/operations.md#roll-back',
        ...single(w('poisonMessages')),
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      },
    },
  ];
  return specs.map((spec) => ({ ...spec, properties: { ...spec.properties, ...actions } }));
}
