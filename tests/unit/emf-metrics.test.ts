import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmfMetrics } from '../../src/runtime/metrics/emf-metrics.ts';

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>;
  };
  [member: string]: unknown;
}

/** Checks one line against the CloudWatch Embedded Metric Format specification. */
function parseEmf(line: string): EmfDocument {
  const doc = JSON.parse(line) as EmfDocument;
  assert.equal(typeof doc._aws, 'object');
  assert.ok(Number.isInteger(doc._aws.Timestamp) && doc._aws.Timestamp > 1_600_000_000_000, 'Timestamp in epoch milliseconds');
  assert.ok(Array.isArray(doc._aws.CloudWatchMetrics) && doc._aws.CloudWatchMetrics.length > 0);
  for (const directive of doc._aws.CloudWatchMetrics) {
    assert.equal(typeof directive.Namespace, 'string');
    assert.ok(directive.Namespace.length > 0);
    assert.ok(Array.isArray(directive.Dimensions));
    for (const set of directive.Dimensions) {
      assert.ok(Array.isArray(set) && set.length <= 30);
      for (const name of set) assert.equal(typeof doc[name], 'string', `dimension ${name} is a top-level string member`);
    }
    assert.ok(Array.isArray(directive.Metrics) && directive.Metrics.length > 0 && directive.Metrics.length <= 100);
    for (const metric of directive.Metrics) {
      assert.equal(typeof metric.Name, 'string');
      assert.ok(['Count', 'Milliseconds'].includes(metric.Unit));
      const value = doc[metric.Name];
      const numbers = Array.isArray(value) ? value : [value];
      assert.ok(numbers.length >= 1 && numbers.length <= 100, `${metric.Name} holds 1..100 values`);
      for (const n of numbers) assert.ok(typeof n === 'number' && Number.isFinite(n), `${metric.Name} value is a number`);
    }
  }
  return doc;
}

function setup() {
  const lines: string[] = [];
  const metrics = new EmfMetrics((line) => lines.push(line), { namespace: 'WardenTest', service: 'warden-unit', flushIntervalMs: 0 });
  return { lines, metrics, docs: () => lines.map(parseEmf) };
}

describe('EmfMetrics', () => {
  it('keeps every gauge observation (a level, not a sum) with unit Count', () => {
    const { metrics, docs } = setup();
    metrics.gauge('QueueBacklog', 120);
    metrics.gauge('QueueBacklog', 80);
    metrics.flush();
    const [doc] = docs();
    assert.deepEqual(doc?.['QueueBacklog'], [120, 80]);
    assert.equal((doc?.['_aws'] as { CloudWatchMetrics: Array<{ Metrics: Array<{ Unit: string }> }> }).CloudWatchMetrics[0]?.Metrics[0]?.Unit, 'Count');
  });

  it('writes a valid EMF document with Namespace, the Service dimension and the metric value', () => {
    const { metrics, docs } = setup();
    const before = Date.now();
    metrics.count('JobsSubmitted');
    metrics.flush();
    const [doc, ...rest] = docs();
    assert.equal(rest.length, 0);
    assert.ok(doc);
    const directive = doc._aws.CloudWatchMetrics[0];
    assert.equal(directive?.Namespace, 'WardenTest');
    assert.deepEqual(directive?.Dimensions, [['Service']]);
    assert.deepEqual(directive?.Metrics, [{ Name: 'JobsSubmitted', Unit: 'Count' }]);
    assert.equal(doc['Service'], 'warden-unit');
    assert.equal(doc['JobsSubmitted'], 1);
    assert.ok(doc._aws.Timestamp >= before && doc._aws.Timestamp <= Date.now());
  });

  it('aggregates counters between flushes', () => {
    const { metrics, docs } = setup();
    metrics.count('LlmCalls');
    metrics.count('LlmCalls');
    metrics.count('LlmCalls', 5);
    metrics.flush();
    assert.deepEqual(docs().map((doc) => doc['LlmCalls']), [7]);
  });

  it('starts afresh after a flush and writes nothing when nothing happened', () => {
    const { metrics, lines, docs } = setup();
    metrics.count('LlmCalls', 2);
    metrics.flush();
    metrics.flush();
    assert.equal(lines.length, 1);
    metrics.count('LlmCalls', 3);
    metrics.flush();
    assert.deepEqual(docs().map((doc) => doc['LlmCalls']), [2, 3]);
  });

  it('keeps one series per dimension set, with the dimensions after Service', () => {
    const { metrics, docs } = setup();
    metrics.count('JobTransitions', 1, { State: 'leased' });
    metrics.count('JobTransitions', 1, { State: 'leased' });
    metrics.count('JobTransitions', 1, { State: 'succeeded' });
    metrics.flush();
    const byState = new Map(docs().map((doc) => [doc['State'], doc]));
    assert.equal(byState.size, 2);
    for (const [state, value] of [['leased', 2], ['succeeded', 1]] as const) {
      const doc = byState.get(state);
      assert.ok(doc);
      assert.equal(doc['JobTransitions'], value);
      assert.deepEqual(doc._aws.CloudWatchMetrics[0]?.Dimensions, [['Service', 'State']]);
      assert.equal(doc['Service'], 'warden-unit');
    }
  });

  it('writes timings as a list of rounded millisecond values', () => {
    const { metrics, docs } = setup();
    metrics.timing('LlmLatency', 12.4);
    metrics.timing('LlmLatency', 4000.6);
    metrics.flush();
    const [doc] = docs();
    assert.deepEqual(doc?._aws.CloudWatchMetrics[0]?.Metrics, [{ Name: 'LlmLatency', Unit: 'Milliseconds' }]);
    assert.deepEqual(doc?.['LlmLatency'], [12, 4001]);
  });

  it('keeps at most 100 timing values per document', () => {
    const { metrics, docs } = setup();
    for (let i = 0; i < 250; i += 1) metrics.timing('JobLatency', i);
    metrics.flush();
    const values = docs()
      .filter((doc) => 'JobLatency' in doc)
      .flatMap((doc) => doc['JobLatency'] as number[]);
    assert.ok(values.length > 0 && values.length <= 100, `${values.length} values`);
    for (const doc of docs()) assert.ok((doc['JobLatency'] as number[]).length <= 100);
  });

  it('flushes on its interval, and close() flushes what is left and stops the interval', (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const lines: string[] = [];
    const metrics = new EmfMetrics((line) => lines.push(line), { namespace: 'N', service: 'S', flushIntervalMs: 1_000 });
    metrics.count('A');
    t.mock.timers.tick(1_000);
    assert.equal(lines.length, 1);
    metrics.count('B');
    metrics.close();
    assert.equal(lines.length, 2);
    assert.equal(parseEmf(lines[1] ?? '')['B'], 1);
    metrics.count('C');
    t.mock.timers.tick(5_000);
    assert.equal(lines.length, 2, 'no flush after close');
  });
});
