import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { WardenConfig } from '../config/config-schema.ts';
import { parseConfig } from '../config/load-config.ts';
import { startInfra, type Infra } from './infra/start-infra.ts';
import { startSimLlm, type SimLlm } from './sim-llm/index.ts';
import type { SimLlmFaults } from './sim-llm/faults.ts';
import { startSimRecordStore, type SimRecordStore } from './sim-record-store/index.ts';

export interface LocalStackOptions {
  partitions?: number;
  /** Multiplies every simulated LLM latency and timeout (1 = production-like P50 4 s). */
  timeScale?: number;
  /** Fraction of LLM calls that hang until the timeout (default 1%). */
  timeoutRate?: number;
  llmSeed?: number;
  faults?: Partial<SimLlmFaults>;
  mode?: 'in-process' | 'child';
  /** Config fields to override in the generated config (actor concurrency, timeouts...). */
  configOverrides?: (config: Record<string, any>) => void;
}

export interface LocalStack {
  infra: Infra;
  llm: SimLlm;
  records: SimRecordStore;
  /** A validated config pointing every warden process at this stack. */
  config: WardenConfig;
  /** Writes the config as JSON (for processes started separately) and returns its path. */
  writeConfig(path: string): string;
  stop(): Promise<void>;
}

/**
 * The whole local stack: real redis-server, dynalite and fauxqs (provisioned as production is),
 * the simulated LLM and the simulated record store, all on free 127.0.0.1 ports.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const partitions = options.partitions ?? 4;
  const timeScale = options.timeScale ?? 1;
  const [infra, llm, records] = await Promise.all([
    startInfra({ partitions, mode: options.mode ?? 'in-process' }),
    startSimLlm({
      timeScale,
      timeoutRate: options.timeoutRate ?? 0.01,
      seed: options.llmSeed ?? 1,
      ...(options.faults ? { faults: options.faults } : {}),
    }),
    startSimRecordStore({}),
  ]);
  // A fresh key-encryption key per stack, in a private directory removed with the stack.
  const keyDir = mkdtempSync(join(tmpdir(), 'warden-kek-'));
  const raw: Record<string, any> = {
    service: 'warden-local',
    partitions,
    aws: { region: infra.region, endpoints: { dynamodb: infra.dynamodbEndpoint, sqs: infra.sqsEndpoint, s3: infra.s3Endpoint } },
    redis: { url: infra.redis.url },
    queues: { prefix: infra.names.queuePrefix, visibilityTimeoutS: infra.names.visibilityTimeoutS, waitTimeS: 1 },
    bucket: infra.names.bucket,
    llm: {
      name: 'sim',
      baseUrl: llm.url,
      model: 'sim-1',
      timeoutMs: Math.max(200, Math.round(60_000 * timeScale * 1.1)),
      firstByteTimeoutMs: Math.max(200, Math.round(60_000 * timeScale * 1.1)),
      backoffBaseMs: Math.max(10, Math.round(1000 * timeScale)),
      backoffMaxMs: Math.max(100, Math.round(60_000 * timeScale)),
    },
    recordStore: { baseUrl: records.url },
    tables: { jobs: infra.names.jobsTable, fences: infra.names.fencesTable, access: infra.names.accessTable },
    crypto: { kek: 'local', keyFile: join(keyDir, 'kek.key') },
    // Roomy limits: the local runs exercise the limiter's path without making it the bottleneck.
    limiter: { rpm: 120000, tpm: 500000000, tenantShare: 1 },
    prompts: { dir: resolve('config/prompts') },
    metrics: { output: '-', flushIntervalMs: 10_000 },
  };
  options.configOverrides?.(raw);
  const config = parseConfig(raw);
  let stopping: Promise<void> | undefined;
  return {
    infra,
    llm,
    records,
    config,
    writeConfig(path) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
      return path;
    },
    stop() {
      stopping ??= Promise.allSettled([infra.stop(), llm.close(), records.close()]).then(() => rmSync(keyDir, { recursive: true, force: true }));
      return stopping;
    },
  };
}
