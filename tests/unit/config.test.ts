import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ValidationError } from '../../src/errors.ts';
import { loadConfig, parseConfig } from '../../src/config/load-config.ts';

const minimal = () => ({
  redis: { url: 'redis://127.0.0.1:6379' },
  llm: { baseUrl: 'http://127.0.0.1:9000', model: 'gpt-test' },
  recordStore: { baseUrl: 'http://127.0.0.1:9100' },
});

function invalid(run: () => unknown, field: string) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
    assert.equal(error.code, 'invalid_config');
    assert.ok(error.message.includes(field), `message '${error.message}' should name '${field}'`);
    return true;
  });
}

describe('parseConfig: defaults', () => {
  it('fills every documented default', () => {
    const config = parseConfig(minimal(), {});
    assert.equal(config.service, 'warden');
    assert.equal(config.partitions, 64);
    assert.deepEqual(config.aws, { region: 'us-east-1', endpoints: {} });
    assert.deepEqual(config.tables, { jobs: 'warden-jobs', fences: 'warden-fences', access: 'warden-access' });
    assert.deepEqual(config.queues, { prefix: 'warden-p', visibilityTimeoutS: 20, waitTimeS: 20 });
    assert.equal(config.bucket, 'warden-payloads');
    assert.deepEqual(config.llm, {
      baseUrl: 'http://127.0.0.1:9000',
      model: 'gpt-test',
      name: 'openai',
      timeoutMs: 60000,
      connectTimeoutMs: 5000,
      firstByteTimeoutMs: 60000,
      connections: 1024,
      maxAttempts: 5,
      backoffBaseMs: 1000,
      backoffMaxMs: 60000,
    });
    assert.deepEqual(config.recordStore, { baseUrl: 'http://127.0.0.1:9100', timeoutMs: 10000, connections: 256, maxConflictRetries: 5 });
    assert.deepEqual(config.actor, { concurrency: 64, bulkWaiting: 0 });
    assert.deepEqual(config.crypto, { kek: 'local', keyFile: '/etc/warden/kek.key', cacheSize: 1024, dataKeyMaxMessages: 1000, dataKeyMaxAgeMs: 300000 });
    assert.deepEqual(config.supervisor, { drainTimeoutMs: 90000, handoffTimeoutMs: 30000 });
    assert.deepEqual(config.ingest, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(config.metrics, { namespace: 'Warden', output: '-', flushIntervalMs: 10000 });
    assert.deepEqual(config.log, { level: 'info' });
    assert.deepEqual(config.prompts, { dir: 'config/prompts' });
  });

  it('keeps given values over defaults', () => {
    const config = parseConfig({ ...minimal(), partitions: 4, llm: { ...minimal().llm, timeoutMs: 1000 }, aws: { endpoints: { sqs: 'http://x' } } }, {});
    assert.equal(config.partitions, 4);
    assert.equal(config.llm.timeoutMs, 1000);
    assert.deepEqual(config.aws, { region: 'us-east-1', endpoints: { sqs: 'http://x' } });
  });

  it('does not mutate its input, and two configs share no objects', () => {
    const raw = minimal();
    const snapshot = structuredClone(raw);
    const one = parseConfig(raw, {});
    assert.deepEqual(raw, snapshot);
    const two = parseConfig(raw, {});
    one.aws.endpoints.sqs = 'http://changed';
    one.tables.jobs = 'changed';
    assert.deepEqual(two.aws.endpoints, {});
    assert.equal(two.tables.jobs, 'warden-jobs');
  });
});

describe('parseConfig: refusals name the field', () => {
  it('missing redis', () => {
    const { redis: _r, ...raw } = minimal();
    invalid(() => parseConfig(raw, {}), 'redis');
  });

  it('missing redis.url', () => {
    invalid(() => parseConfig({ ...minimal(), redis: {} }, {}), 'redis.url');
  });

  it('missing llm.model and recordStore.baseUrl', () => {
    invalid(() => parseConfig({ ...minimal(), llm: { baseUrl: 'http://x' } }, {}), 'llm.model');
    invalid(() => parseConfig({ ...minimal(), recordStore: {} }, {}), 'recordStore.baseUrl');
  });

  it('llm.timeoutMs too small', () => {
    invalid(() => parseConfig({ ...minimal(), llm: { ...minimal().llm, timeoutMs: 99 } }, {}), 'llm.timeoutMs');
  });

  it('wrong types and ranges', () => {
    invalid(() => parseConfig({ ...minimal(), partitions: 0 }, {}), 'partitions');
    invalid(() => parseConfig({ ...minimal(), partitions: 2.5 }, {}), 'partitions');
    invalid(() => parseConfig({ ...minimal(), queues: { waitTimeS: 21 } }, {}), 'queues.waitTimeS');
    invalid(() => parseConfig({ ...minimal(), redis: { url: '' } }, {}), 'redis.url');
    invalid(() => parseConfig({ ...minimal(), log: { level: 'verbose' } }, {}), 'log.level');
    invalid(() => parseConfig({ ...minimal(), ingest: { port: '8080' } }, {}), 'ingest.port');
  });

  it('unknown fields, top-level and nested', () => {
    invalid(() => parseConfig({ ...minimal(), partitons: 8 }, {}), 'partitons');
    invalid(() => parseConfig({ ...minimal(), llm: { ...minimal().llm, apiKey: 'sk-123' } }, {}), 'llm.apiKey');
  });

  it('a config that is not an object', () => {
    invalid(() => parseConfig([], {}), 'config');
    invalid(() => parseConfig('text', {}), 'config');
  });
});

describe('parseConfig: environment overrides', () => {
  it('WARDEN_REDIS_URL replaces redis.url', () => {
    assert.equal(parseConfig(minimal(), { WARDEN_REDIS_URL: 'redis://other:6380' }).redis.url, 'redis://other:6380');
  });

  it('WARDEN_REDIS_URL supplies redis when the file has none', () => {
    const { redis: _r, ...raw } = minimal();
    assert.equal(parseConfig(raw, { WARDEN_REDIS_URL: 'redis://env:6379' }).redis.url, 'redis://env:6379');
  });

  it('applies the other overrides, with the port as a number', () => {
    const config = parseConfig(minimal(), {
      WARDEN_LLM_BASE_URL: 'http://llm',
      WARDEN_RECORD_STORE_URL: 'http://records',
      WARDEN_AWS_REGION: 'eu-west-1',
      WARDEN_LOG_LEVEL: 'debug',
      WARDEN_INGEST_PORT: '9090',
    });
    assert.equal(config.llm.baseUrl, 'http://llm');
    assert.equal(config.recordStore.baseUrl, 'http://records');
    assert.equal(config.aws.region, 'eu-west-1');
    assert.equal(config.log.level, 'debug');
    assert.equal(config.ingest.port, 9090);
  });

  it('ignores empty values and validates overridden ones', () => {
    assert.equal(parseConfig(minimal(), { WARDEN_REDIS_URL: '' }).redis.url, 'redis://127.0.0.1:6379');
    invalid(() => parseConfig(minimal(), { WARDEN_LOG_LEVEL: 'loud' }), 'log.level');
    invalid(() => parseConfig(minimal(), { WARDEN_INGEST_PORT: 'http' }), 'ingest.port');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and validates a JSON file', () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify(minimal()));
    assert.equal(loadConfig(file, { WARDEN_AWS_REGION: 'ap-south-1' }).aws.region, 'ap-south-1');
  });

  it('a missing file is invalid_config naming the file', () => {
    invalid(() => loadConfig(join(dir, 'absent.json'), {}), 'absent.json');
  });

  it('a file that is not JSON is invalid_config naming the file', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "redis": ');
    invalid(() => loadConfig(file, {}), 'broken.json');
  });

  it('a file with a field error is invalid_config naming the field', () => {
    const file = join(dir, 'bad-field.json');
    writeFileSync(file, JSON.stringify({ ...minimal(), llm: { ...minimal().llm, timeoutMs: 1 } }));
    invalid(() => loadConfig(file, {}), 'llm.timeoutMs');
  });

  it('a file holding a JSON scalar is invalid_config even when an environment override applies', () => {
    const file = join(dir, 'scalar.json');
    writeFileSync(file, '"redis://oops"');
    invalid(() => loadConfig(file, {}), 'config');
    invalid(() => loadConfig(file, { WARDEN_REDIS_URL: 'redis://env:6379' }), 'config');
  });
});
