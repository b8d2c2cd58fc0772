import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { readdirSync } from 'node:fs';
import { request } from 'undici';
import type { WardenConfig } from '../../config/config-schema.ts';
import { loadConfig } from '../../config/load-config.ts';
import { ValidationError } from '../../errors.ts';
import { makeAwsClients } from '../../runtime/aws/aws-clients.ts';
import { TemplateCatalog } from '../../runtime/prompts/template-catalog.ts';
import { closeRedisClient, createRedisClient } from '../../runtime/redis/redis-client.ts';
import { numberOption, type Command } from '../command.ts';

/**
 * `warden self-check`: what an AMI build runs as its last step and an operator runs before
 * blaming the code. Without --connectivity it touches no network (a Packer build instance can
 * reach none of the deployment's resources); with it, every dependency of a supervisor is asked
 * one cheap, read-only question.
 */

export interface CheckResult {
  check: string;
  ok: boolean;
  detail: string;
  ms: number;
}

const MIN_NODE: [number, number] = [20, 18];

/** The modules a supervisor, the API and the ops commands load; importing them proves the install is whole. */
const PRODUCTION_MODULES = [
  () => import('../../runtime/runtime-context.ts'),
  () => import('../../supervisor/supervisor.ts'),
  () => import('../../ingest/http/http-api.ts'),
  () => import('../../ops/dead-letters.ts'),
  () => import('../../runtime/aws/lifecycle-hook.ts'),
  () => import('../../runtime/aws/lifecycle-actions.ts'),
  () => import('../../runtime/aws/imds-client.ts'),
];

async function timed(check: string, run: () => Promise<string>): Promise<CheckResult> {
  const started = performance.now();
  try {
    const detail = await run();
    return { check, ok: true, detail, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { check, ok: false, detail: message, ms: Math.round(performance.now() - started) };
  }
}

function withTimeout<T>(what: string, timeoutMs: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  return Promise.race([
    run(signal),
    new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), { once: true })),
  ]);
}

export async function runSelfCheck(options: { configFile?: string; connectivity: boolean; timeoutMs: number }): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(
    await timed('runtime', async () => {
      const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
      if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
        throw new Error(`node ${process.versions.node} is older than ${MIN_NODE.join('.')}`);
      }
      for (const load of PRODUCTION_MODULES) await load();
      return `node ${process.versions.node}, ${PRODUCTION_MODULES.length} production modules loaded`;
    }),
  );
  if (options.configFile === undefined) {
    if (options.connectivity) throw new ValidationError('invalid_option', '--connectivity needs --config');
    return results;
  }
  const configFile = options.configFile;
  let config: WardenConfig | undefined;
  results.push(
    await timed('config', async () => {
      config = loadConfig(configFile);
      return `${configFile}: valid (service ${config.service}, ${config.partitions} partitions, region ${config.aws.region})`;
    }),
  );
  if (!config) return results;
  const cfg: WardenConfig = config;
  results.push(
    await timed('prompts', async () => {
      // The catalog validates every template; it lists none, so the names come from the folder.
      const catalog = new TemplateCatalog(cfg.prompts.dir);
      const versions = readdirSync(cfg.prompts.dir)
        .filter((file) => file.endsWith('.json'))
        .map((file) => file.slice(0, -'.json'.length))
        .filter((version) => catalog.has(version));
      if (versions.length === 0) throw new Error(`no prompt templates in ${cfg.prompts.dir}`);
      return `${versions.length} template(s) in ${cfg.prompts.dir}: ${versions.join(', ')}`;
    }),
  );
  if (!options.connectivity) return results;

  const timeoutMs = options.timeoutMs;
  results.push(
    await timed('redis', async () => {
      const redis = createRedisClient({ url: cfg.redis.url, maxRetriesPerRequest: 0, connectTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs });
      try {
        const pong = await withTimeout('redis PING', timeoutMs, () => redis.ping());
        return `PING → ${pong}`;
      } finally {
        await closeRedisClient(redis).catch(() => undefined);
        redis.disconnect();
      }
    }),
  );
  const aws = makeAwsClients({ region: cfg.aws.region, endpoints: cfg.aws.endpoints, maxAttempts: 1 });
  try {
    for (const table of [cfg.tables.jobs, cfg.tables.fences]) {
      results.push(
        await timed(`dynamodb:${table}`, async () => {
          const out = await withTimeout(`DescribeTable ${table}`, timeoutMs, (abortSignal) => aws.ddb.send(new DescribeTableCommand({ TableName: table }), { abortSignal }));
          if (out.Table?.TableStatus !== 'ACTIVE') throw new Error(`table ${table} is ${out.Table?.TableStatus ?? 'unknown'}`);
          return 'ACTIVE';
        }),
      );
    }
    const prefix = cfg.queues.prefix;
    const queues = [...Array.from({ length: cfg.partitions }, (_, p) => `${prefix}${p}`), `${prefix}dlq-transient`, `${prefix}dlq-permanent`];
    results.push(
      await timed('sqs', async () => {
        const missing: string[] = [];
        await withTimeout('GetQueueUrl', timeoutMs, (abortSignal) =>
          Promise.all(
            queues.map((name) =>
              aws.sqs.send(new GetQueueUrlCommand({ QueueName: name }), { abortSignal }).catch((error: unknown) => {
                missing.push(`${name} (${(error as Error).name})`);
              }),
            ),
          ),
        );
        if (missing.length > 0) throw new Error(`${missing.length} of ${queues.length} queues unreachable: ${missing.slice(0, 5).join(', ')}`);
        return `${queues.length} queues resolved (${cfg.partitions} partitions + 2 dead-letter queues)`;
      }),
    );
    results.push(
      await timed(`s3:${cfg.bucket}`, async () => {
        await withTimeout(`HeadBucket ${cfg.bucket}`, timeoutMs, (abortSignal) => aws.s3.send(new HeadBucketCommand({ Bucket: cfg.bucket }), { abortSignal }));
        return 'reachable';
      }),
    );
  } finally {
    aws.destroy();
  }
  for (const [name, base] of [
    ['llm', cfg.llm.baseUrl],
    ['record-store', cfg.recordStore.baseUrl],
  ] as const) {
    // Reachability only: any HTTP answer proves DNS, routing and TLS. No credentials are sent.
    results.push(
      await timed(name, async () => {
        const response = await request(base, { method: 'GET', signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
        await response.body.dump();
        return `${new URL(base).origin} answered HTTP ${response.statusCode}`;
      }),
    );
  }
  return results;
}

export const selfCheckCommand: Command = {
  name: 'self-check',
  summary: 'check that this install loads, its config is valid and (optionally) its dependencies answer',
  usage: `Usage: warden self-check [--config <file>] [--connectivity] [--timeout <ms>] [--json]

Checks, in order, one line each; exits 0 when all pass, 1 when one fails:
  runtime        Node.js >= 20.18 and every production module loads (no missing dependency)
  config         the config file parses and validates, WARDEN_* overrides applied (needs --config)
  prompts        the prompt templates in prompts.dir load (needs --config)
  --connectivity read-only calls: Redis PING, DynamoDB DescribeTable (jobs, fences), SQS
                 GetQueueUrl (every partition queue and both DLQs), S3 HeadBucket, and an HTTP
                 request to the LLM and record store base URLs (no credentials sent)

The AMI build runs it without --connectivity (the build instance reaches no deployment
resources); run it with --connectivity on an instance (SSM document warden-status).

Options:
  --config <file>    warden config (JSON)
  --connectivity     also check the dependencies (needs --config)
  --timeout <ms>     budget of each connectivity check (default 5000)
  --json             one JSON object instead of lines
  -h, --help         show this help`,
  options: { config: { type: 'string' }, connectivity: { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const configFile = typeof values['config'] === 'string' ? values['config'] : undefined;
    const results = await runSelfCheck({
      ...(configFile !== undefined ? { configFile } : {}),
      connectivity: values['connectivity'] === true,
      timeoutMs: numberOption(values, 'timeout', 5_000),
    });
    const ok = results.every((result) => result.ok);
    if (values['json']) process.stdout.write(`${JSON.stringify({ ok, checks: results })}\n`);
    else {
      for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.check.padEnd(24)} ${r.detail} (${r.ms} ms)\n`);
      process.stdout.write(ok ? 'self-check passed\n' : 'self-check FAILED\n');
    }
    return ok ? 0 : 1;
  },
};
