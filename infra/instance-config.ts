import type { WardenConfig } from '../src/config/config-schema.ts';

/**
 * The warden config an instance of the fleet runs with, as one function of the deployment's
 * names. The launch template's user data writes it to /etc/warden/warden.json (values resolved by
 * CloudFormation), and the release carries the same shape filled with example values as
 * config/warden.example.json. tests/deploy validates both against the real config schema.
 */

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface InstanceConfigInput {
  service: string;
  partitions: number;
  region: string;
  /** rediss://host:port — the ElastiCache primary endpoint; the AUTH token arrives as WARDEN_REDIS_URL at boot. */
  redisUrl: string;
  jobsTable: string;
  fencesTable: string;
  queuePrefix: string;
  visibilityTimeoutS: number;
  bucket: string;
  llm: { name: string; baseUrl: string; model: string; apiKeyEnv: string };
  recordStore: { baseUrl: string; tokenEnv: string };
  /** Jobs per partition actor; with 64 partitions over N instances, about 64/N actors each. */
  actorConcurrency: number;
  drainTimeoutMs: number;
}

/** Where the release and the units put things on an instance (the AMI layout). */
export const INSTANCE_PATHS = {
  releaseDir: '/opt/warden',
  launcher: '/opt/warden/bin/warden.js',
  configFile: '/etc/warden/warden.json',
  promptsDir: '/opt/warden/config/prompts',
  logDir: '/var/log/warden',
  /** EMF lines the CloudWatch agent ships; CloudWatch Logs extracts the metrics. */
  metricsFile: '/var/log/warden/emf.log',
  /** Application log (pino JSON) the CloudWatch agent ships. */
  logFile: '/var/log/warden/supervisor.log',
  /** Secrets fetched at boot by warden-secrets.service: WARDEN_REDIS_URL, the LLM key. Root-only, on tmpfs. */
  secretsEnv: '/run/warden/secrets.env',
  /** Non-secret per-instance settings written by user data (lifecycle hook names, secret ARNs). */
  bootEnv: '/etc/warden/boot.env',
} as const;

export function instanceConfig(input: InstanceConfigInput): DeepPartial<WardenConfig> {
  return {
    service: input.service,
    partitions: input.partitions,
    aws: { region: input.region },
    redis: { url: input.redisUrl },
    tables: { jobs: input.jobsTable, fences: input.fencesTable },
    queues: { prefix: input.queuePrefix, visibilityTimeoutS: input.visibilityTimeoutS, waitTimeS: 20 },
    bucket: input.bucket,
    llm: { name: input.llm.name, baseUrl: input.llm.baseUrl, model: input.llm.model, apiKeyEnv: input.llm.apiKeyEnv, timeoutMs: 60_000 },
    recordStore: { baseUrl: input.recordStore.baseUrl, tokenEnv: input.recordStore.tokenEnv },
    actor: { concurrency: input.actorConcurrency },
    supervisor: { drainTimeoutMs: input.drainTimeoutMs },
    metrics: { namespace: 'Warden', output: INSTANCE_PATHS.metricsFile, flushIntervalMs: 10_000 },
    log: { level: 'info' },
    prompts: { dir: INSTANCE_PATHS.promptsDir },
  };
}

/** The example shipped in the release: valid as is; the real one comes from the stack's user data. */
export function exampleInstanceConfig(): DeepPartial<WardenConfig> {
  return instanceConfig({
    service: 'warden',
    partitions: 64,
    region: 'us-east-1',
    redisUrl: 'rediss://warden-redis.example.internal:6379',
    jobsTable: 'warden-jobs',
    fencesTable: 'warden-fences',
    queuePrefix: 'warden-p',
    visibilityTimeoutS: 30,
    bucket: 'warden-payloads-123456789012-us-east-1',
    llm: { name: 'openai', baseUrl: 'https://api.openai.com', model: 'gpt-4o-mini', apiKeyEnv: 'WARDEN_LLM_API_KEY' },
    recordStore: { baseUrl: 'https://records.example.internal', tokenEnv: 'WARDEN_RECORD_STORE_TOKEN' },
    actorConcurrency: 64,
    drainTimeoutMs: 90_000,
  });
}
