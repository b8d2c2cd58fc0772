import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { METRIC } from '../../src/runtime/metrics.ts';
import { hasDimensionSet, METRIC_CATALOG, metricByName } from '../../src/runtime/metric-catalog.ts';
import { buildAlarms } from '../../infra/alarms.ts';
import { resourcesOfType } from '../../infra/cfn.ts';
import { buildDashboard } from '../../infra/dashboards.ts';
import { WARDEN_NAMESPACE } from '../../infra/metrics.ts';
import { deploymentNames } from '../../infra/names.ts';
import { buildTemplate } from '../../infra/warden-stack.ts';

/**
 * Every metric a dashboard, an alarm or the scaling policy names must be one the code publishes,
 * under the same dimensions (CloudWatch matches a metric by name AND its exact dimension set).
 * The catalog (src/runtime/metric-catalog.ts) is the contract between the two; the code side is
 * checked by reading every metrics.count/timing call in src/.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const names = deploymentNames();

interface NamedMetric {
  where: string;
  namespace: string;
  name: string;
  dimensions: string[];
}

/** `SEARCH('{Namespace,Dim1,Dim2} MetricName="X" ...', ...)` → the metric it looks for. */
function fromSearch(expression: string, where: string): NamedMetric[] {
  return [...expression.matchAll(/SEARCH\('\{([^}]+)\}[^']*?MetricName="([^"]+)"/g)].map((m) => {
    const [namespace, ...dimensions] = (m[1] as string).split(',');
    return { where, namespace: namespace as string, name: m[2] as string, dimensions };
  });
}

function dashboardMetrics(): NamedMetric[] {
  const out: NamedMetric[] = [];
  for (const widget of buildDashboard(names).widgets) {
    if (widget.type !== 'metric') continue;
    const where = `dashboard "${String(widget.properties['title'])}"`;
    for (const line of widget.properties['metrics'] as unknown[][]) {
      const first = line[0];
      if (first && typeof first === 'object') {
        out.push(...fromSearch(String((first as { expression: string }).expression), where));
        continue;
      }
      const parts = line.filter((p): p is string => typeof p === 'string');
      const [namespace, name, ...dims] = parts;
      out.push({ where, namespace: namespace as string, name: name as string, dimensions: dims.filter((_, i) => i % 2 === 0) });
    }
  }
  return out;
}

function alarmAndScalingMetrics(): NamedMetric[] {
  const out: NamedMetric[] = [];
  for (const alarm of buildAlarms(names, 'arn:topic')) {
    const p = alarm.properties;
    const where = `alarm ${String(p.AlarmName)}`;
    if (p.MetricName) out.push({ where, namespace: p.Namespace as string, name: p.MetricName, dimensions: (p.Dimensions ?? []).map((d) => d.Name) });
    for (const q of p.Metrics ?? []) {
      if (q.MetricStat) out.push({ where, namespace: q.MetricStat.Metric.Namespace, name: q.MetricStat.Metric.MetricName, dimensions: (q.MetricStat.Metric.Dimensions ?? []).map((d) => d.Name) });
    }
  }
  for (const [id, policy] of resourcesOfType(buildTemplate(), 'AWS::AutoScaling::ScalingPolicy')) {
    for (const q of policy.Properties.TargetTrackingConfiguration.CustomizedMetricSpecification.Metrics) {
      if (q.MetricStat) out.push({ where: `scaling policy ${id}`, namespace: q.MetricStat.Metric.Namespace, name: q.MetricStat.Metric.MetricName, dimensions: (q.MetricStat.Metric.Dimensions ?? []).map((d) => d.Name) });
    }
  }
  return out;
}

/** AWS metrics the dashboards and alarms may use, with the dimension set each is published under. */
const AWS_METRICS: Record<string, string[]> = {
  'AWS/SQS ApproximateNumberOfMessagesVisible': ['QueueName'],
  'AWS/SQS ApproximateAgeOfOldestMessage': ['QueueName'],
  'AWS/AutoScaling GroupInServiceInstances': ['AutoScalingGroupName'],
  'AWS/ElastiCache ReplicationLag': ['CacheClusterId'],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The argument text of a call starting at `open` (the index of its '('), split at top-level commas. */
function callArguments(text: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i += 1) {
    const c = text[i];
    if (c === '(' || c === '{' || c === '[') depth += 1;
    else if (c === ')' || c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) {
        args.push(text.slice(start, i).trim());
        return args;
      }
    } else if (c === ',' && depth === 1) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error('unbalanced call');
}

interface Emission {
  where: string;
  key: string;
  dimensions: string[] | 'unknown';
}

/** Every `<x>.count(METRIC.k, ...)` / `.timing(...)` / `.gauge(...)` in src/, with the dimension keys passed. */
function codeEmissions(): Emission[] {
  const out: Emission[] = [];
  for (const file of walk(join(ROOT, 'src'))) {
    if (file.includes('/src/stack/')) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\.(count|timing|gauge)\(/g)) {
      const args = callArguments(text, (match.index as number) + match[0].length - 1);
      const keys = [...(args[0] ?? '').matchAll(/METRIC\.(\w+)/g)].map((m) => m[1] as string);
      if (keys.length === 0) continue;
      const dimsArg = args[2];
      let dimensions: Emission['dimensions'] = [];
      if (dimsArg !== undefined && dimsArg !== 'undefined') {
        dimensions = /^\{[\s\S]*\}$/.test(dimsArg) ? [...dimsArg.matchAll(/(\w+)\s*:/g)].map((m) => m[1] as string) : 'unknown';
      }
      const line = text.slice(0, match.index).split('\n').length;
      for (const key of keys) out.push({ where: `${relative(ROOT, file)}:${line}`, key, dimensions });
    }
  }
  return out;
}

describe('metric catalog', () => {
  test('every METRIC name is catalogued under the same name', () => {
    for (const [key, name] of Object.entries(METRIC)) {
      assert.equal(METRIC_CATALOG[key as keyof typeof METRIC]?.name, name, `METRIC.${key}`);
    }
    const all = Object.values(METRIC_CATALOG).map((s) => s.name);
    assert.equal(new Set(all).size, all.length, 'metric names are unique');
    for (const spec of Object.values(METRIC_CATALOG)) {
      assert.ok(spec.dimensionSets.length > 0 && spec.dimensionSets.every((d) => d.dimensions[0] === 'Service'), `${spec.name}: Service first`);
    }
  });

  test('every metric a dashboard, alarm or scaling policy names is published with that dimension set', () => {
    const named = [...dashboardMetrics(), ...alarmAndScalingMetrics()];
    assert.ok(named.length > 30, `found ${named.length} metric references`);
    for (const m of named) {
      if (m.namespace === WARDEN_NAMESPACE) {
        const spec = metricByName(m.name);
        assert.ok(spec, `${m.where}: ${m.name} is not in src/runtime/metric-catalog.ts`);
        assert.ok(hasDimensionSet(spec, m.dimensions), `${m.where}: ${m.name} is never published with [${m.dimensions.join(', ')}]`);
      } else {
        const dims = AWS_METRICS[`${m.namespace} ${m.name}`];
        assert.ok(dims, `${m.where}: unexpected AWS metric ${m.namespace} ${m.name}`);
        assert.deepEqual([...m.dimensions].sort(), [...dims].sort(), `${m.where}: ${m.namespace} ${m.name} dimensions`);
      }
    }
  });

  test('the code publishes exactly the dimension sets the catalog marks as emitted', (t) => {
    const emissions = codeEmissions();
    assert.ok(emissions.length >= 10, `found ${emissions.length} metric calls in src/`);
    const emitted = new Map<string, Set<string>>();
    for (const e of emissions) {
      assert.ok(e.key in METRIC_CATALOG, `${e.where}: METRIC.${e.key} has no catalog entry`);
      assert.notEqual(e.dimensions, 'unknown', `${e.where}: dimensions of METRIC.${e.key} are not an object literal; the check cannot read them`);
      const set = ['Service', ...(e.dimensions as string[])].sort().join(',');
      const spec = METRIC_CATALOG[e.key as keyof typeof METRIC_CATALOG];
      const declared = spec.dimensionSets.find((d) => [...d.dimensions].sort().join(',') === set);
      assert.ok(declared, `${e.where}: ${spec.name} published with [${set}], which the catalog does not list`);
      assert.ok(declared.emitted, `${e.where}: ${spec.name} [${set}] is published now: mark it emitted: true in metric-catalog.ts`);
      if (!emitted.has(spec.name)) emitted.set(spec.name, new Set());
      emitted.get(spec.name)!.add(set);
    }
    const pending: string[] = [];
    for (const spec of Object.values(METRIC_CATALOG)) {
      for (const d of spec.dimensionSets) {
        const set = [...d.dimensions].sort().join(',');
        if (d.emitted) assert.ok(emitted.get(spec.name)?.has(set), `${spec.name} [${set}] is marked emitted but no call in src/ publishes it`);
        else pending.push(`${spec.name} [${d.dimensions.join(', ')}]`);
      }
    }
    t.diagnostic(`needed by dashboards/alarms, not published by the code yet: ${pending.join('; ')}`);
  });
});
