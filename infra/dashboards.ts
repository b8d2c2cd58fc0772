import { METRIC_CATALOG } from '../src/runtime/metric-catalog.ts';
import type { MetricRef } from './metrics.ts';
import { awsMetric, wardenMetric, WARDEN_NAMESPACE } from './metrics.ts';
import type { DeploymentNames } from './names.ts';

/**
 * The operations dashboard as a CloudWatch dashboard body. `${AWS::Region}` is left for
 * CloudFormation's Fn::Sub; every other value is known when the template is built.
 */

type MetricOptions = { stat?: string; label?: string; id?: string; visible?: boolean; yAxis?: 'left' | 'right' };
type MetricLine = Array<string | MetricOptions> | [{ expression: string; label: string; id: string; visible?: boolean }];

function line(metric: MetricRef, options: MetricOptions = {}): MetricLine {
  const dims = Object.entries(metric.dimensions).flat();
  return [metric.namespace, metric.name, ...dims, ...(Object.keys(options).length > 0 ? [options] : [])];
}

function expression(id: string, expr: string, label: string, visible = true): MetricLine {
  return [{ expression: expr, label, id, ...(visible ? {} : { visible }) }];
}

interface Widget {
  type: 'metric' | 'text';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

export interface DashboardBody {
  start: string;
  periodOverride: 'inherit';
  widgets: Widget[];
}

export function buildDashboard(names: DeploymentNames): DashboardBody {
  const s = names.service;
  const w = (key: Parameters<typeof wardenMetric>[0], extra?: Record<string, string>) => wardenMetric(key, s, extra);
  const panels: Array<{ title: string; metrics: MetricLine[]; stat?: string; period?: number; yLabel?: string }> = [
    {
      title: 'Queue backlog and oldest message age',
      metrics: [
        line(w('queueBacklog'), { stat: 'Maximum', label: 'backlog (all partitions)' }),
        line(w('oldestMessageAge'), { stat: 'Maximum', label: 'oldest message age (s)', yAxis: 'right' }),
        expression(
          'sqsvisible',
          `SUM(SEARCH('{AWS/SQS,QueueName} MetricName="ApproximateNumberOfMessagesVisible" QueueName="${names.queuePrefix}"', 'Maximum', 60))`,
          'SQS visible (partitions + DLQs)',
        ),
      ],
    },
    {
      title: 'Backlog per instance (the scaling metric) and instances',
      metrics: [
        line(w('queueBacklog'), { stat: 'Maximum', id: 'backlog', visible: false }),
        line(awsMetric('AWS/AutoScaling', 'GroupInServiceInstances', { AutoScalingGroupName: names.autoScalingGroup }), { stat: 'Average', id: 'instances', yAxis: 'right' }),
        expression('perinstance', 'backlog / instances', 'backlog per instance'),
      ],
    },
    {
      title: 'Jobs in flight and LLM calls',
      metrics: [line(w('jobsInFlight'), { stat: 'Sum', label: 'in flight (fleet)' }), line(w('llmCalls'), { stat: 'Sum', label: 'LLM calls / min', yAxis: 'right' })],
    },
    {
      title: 'Outcomes and success ratio',
      metrics: [
        line(w('transition', { State: 'succeeded' }), { stat: 'Sum', id: 'ok' }),
        line(w('transition', { State: 'failed' }), { stat: 'Sum', id: 'failed' }),
        line(w('transition', { State: 'dead_lettered' }), { stat: 'Sum', id: 'dead' }),
        line(w('superseded'), { stat: 'Sum', label: 'superseded' }),
        expression('ratio', '100 * ok / (ok + failed + dead)', 'success ratio %'),
      ],
    },
    {
      title: 'LLM latency p50 / p95',
      metrics: [line(w('llmLatency'), { stat: 'p50', label: 'p50' }), line(w('llmLatency'), { stat: 'p95', label: 'p95' })],
      yLabel: 'ms',
    },
    {
      title: 'LLM errors by code',
      metrics: [
        expression('errbycode', `SEARCH('{${WARDEN_NAMESPACE},Service,Code} MetricName="${METRIC_CATALOG.llmErrors.name}" Service="${s}"', 'Sum', 60)`, ''),
        line(w('llmErrors'), { stat: 'Sum', label: 'all codes' }),
      ],
    },
    {
      title: 'Freshness lag (submit to written back)',
      metrics: [line(w('freshness'), { stat: 'p50', label: 'p50' }), line(w('freshness'), { stat: 'p99', label: 'p99 (target < 120 s)' })],
      yLabel: 'ms',
    },
    {
      title: 'Duplicates suppressed',
      metrics: [line(w('deduplicated'), { stat: 'Sum', label: 'duplicate submissions' }), line(w('duplicateDeliveries'), { stat: 'Sum', label: 'duplicate deliveries' })],
    },
    {
      title: 'Ownership: lease takeovers, refused writes, resumed jobs',
      metrics: [
        line(w('leaseTakeovers'), { stat: 'Sum', label: 'lease takeovers' }),
        line(w('ownershipLost'), { stat: 'Sum', label: 'ownership lost (fenced writes refused)' }),
        line(w('jobsResumed'), { stat: 'Sum', label: 'jobs resumed by a new owner' }),
      ],
    },
    {
      title: 'Write-back conflicts (412) and write-backs',
      metrics: [line(w('writebackConflicts'), { stat: 'Sum', label: 'conflicts' }), line(w('writebacks'), { stat: 'Sum', label: 'write-backs', yAxis: 'right' })],
    },
    {
      title: 'Dead-letter queue depth',
      metrics: [
        line(awsMetric('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: names.dlqTransient }), { stat: 'Maximum', label: 'transient (redrivable)' }),
        line(awsMetric('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: names.dlqPermanent }), { stat: 'Maximum', label: 'permanent (needs a person)' }),
        line(w('poisonMessages'), { stat: 'Sum', label: 'poison messages' }),
      ],
    },
    {
      title: 'Limiter saturation and wait',
      metrics: [line(w('limiterSaturation'), { stat: 'Maximum', label: 'saturation %' }), line(w('limiterWaitTime'), { stat: 'p95', label: 'wait p95 (ms)', yAxis: 'right' })],
    },
    {
      title: 'Drains (scale-in and deploys)',
      metrics: [line(w('drainDuration'), { stat: 'Maximum', label: 'drain duration max (budget 90 s)' }), line(w('lifecycleCompletions'), { stat: 'Sum', label: 'lifecycle actions completed', yAxis: 'right' })],
      yLabel: 'ms',
    },
    {
      title: 'Redis (leases, membership, limiter)',
      metrics: [
        line(w('leaseStoreErrors'), { stat: 'Sum', label: 'lease store errors' }),
        expression('redisrepl', `SEARCH('{AWS/ElastiCache,CacheClusterId} MetricName="ReplicationLag" CacheClusterId="${names.redis}"', 'Maximum', 60)`, ''),
      ],
    },
  ];
  const widgets: Widget[] = [
    {
      type: 'text',
      x: 0,
      y: 0,
      width: 24,
      height: 2,
      properties: {
        markdown: `# ${s} operations\nRunbooks: docs/operations.md. SSM documents: ${names.ssmDocumentPrefix}-status, -drain, -resume, -dlq-redrive, -backfill-pause, -backfill-resume.`,
      },
    },
  ];
  panels.forEach((panel, index) => {
    widgets.push({
      type: 'metric',
      x: (index % 2) * 12,
      y: 2 + Math.floor(index / 2) * 6,
      width: 12,
      height: 6,
      properties: {
        title: panel.title,
        region: '${AWS::Region}',
        view: 'timeSeries',
        stacked: false,
        period: panel.period ?? 60,
        metrics: panel.metrics,
        ...(panel.yLabel ? { yAxis: { left: { label: panel.yLabel, showUnits: false } } } : {}),
      },
    });
  });
  return { start: '-PT6H', periodOverride: 'inherit', widgets };
}
