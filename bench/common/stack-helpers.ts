/** Helpers the benchmarks share around the local stack. */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WardenConfig } from '../../src/config/config-schema.ts';
import type { SimRecordStore } from '../../src/stack/sim-record-store/index.ts';
import type { BenchRecord } from './bench-workload.ts';

/** Messages in a set of queues: visible + in flight + delayed. */
export async function queueDepth(sqs: SQSClient, urls: readonly string[]): Promise<number> {
  const depths = await Promise.all(
    urls.map(async (url) => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      const a = out.Attributes ?? {};
      return Number(a['ApproximateNumberOfMessages'] ?? 0) + Number(a['ApproximateNumberOfMessagesNotVisible'] ?? 0) + Number(a['ApproximateNumberOfMessagesDelayed'] ?? 0);
    }),
  );
  return depths.reduce((a, b) => a + b, 0);
}

/** A copy of the config whose AWS endpoints and Redis URL point elsewhere (the counting proxy). */
export function redirectConfig(config: WardenConfig, urls: { dynamodb?: string; sqs?: string; s3?: string; redis?: string }): WardenConfig {
  const copy = structuredClone(config);
  copy.aws.endpoints = {
    ...copy.aws.endpoints,
    ...(urls.dynamodb ? { dynamodb: urls.dynamodb } : {}),
    ...(urls.sqs ? { sqs: urls.sqs } : {}),
    ...(urls.s3 ? { s3: urls.s3 } : {}),
  };
  if (urls.redis) copy.redis.url = urls.redis;
  return copy;
}

export function writeJson(path: string, value: unknown): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

export function putRecords(store: SimRecordStore, records: readonly BenchRecord[]): void {
  for (const r of records) store.putRecord(r.base_id, r.table_id, r.record_id, r.fields);
}

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function mapLimit<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Sends a signal to a pid, ignoring a process that is already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** The preload that profiles a process's main thread (see cpu-profiler-preload.mjs). */
export const PROFILER_PRELOAD = new URL('./cpu-profiler-preload.mjs', import.meta.url).pathname;

/** Runs `fn` with extra environment variables set (spawned children inherit them), then restores. */
export async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** The commit measured, and whether src/ had uncommitted changes (others edit it concurrently). */
export function gitState(): { head: string; src_dirty: boolean } {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== '';
    return { head, src_dirty: dirty };
  } catch {
    return { head: 'unknown', src_dirty: true };
  }
}
