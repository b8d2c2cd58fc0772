/** Helpers the benchmarks share around the local stack. */
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
