import { createWriteStream } from 'node:fs';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { WardenConfig } from '../config/config-schema.ts';
import { makeAwsClients, type AwsClients } from './aws/aws-clients.ts';
import type { CheckpointStore } from './checkpoint-store.ts';
import { systemClock, type Clock } from './clock.ts';
import { DynamoCheckpointStore } from './dynamo/dynamo-checkpoint-store.ts';
import { FencingTokenMinter } from './dynamo/fencing-token-minter.ts';
import type { DeadLetterKind, DeadLetterSink, PartitionQueue } from './job-queue.ts';
import type { LlmProvider } from './llm-provider.ts';
import { OpenAiChatProvider } from './llm/openai-chat-provider.ts';
import type { Redis } from 'ioredis';
import { buildGate } from './build-gate.ts';
import type { AccessLog } from './access-log/access-log.ts';
import { DynamoAccessLog } from './access-log/dynamo-access-log.ts';
import { buildCipher } from './crypto/build-cipher.ts';
import { EncryptedPayloadStore } from './crypto/encrypted-payload-store.ts';
import type { PayloadCipher } from './crypto/payload-cipher.ts';
import type { LlmGate } from '../actors/llm-gate.ts';
import { CpuPool } from './cpu/cpu-pool.ts';
import type { LeaseStore } from './leases/lease-store.ts';
import type { MemberRegistry } from './leases/member-registry.ts';
import { closeRedisClient, createRedisClient } from './redis/redis-client.ts';
import { RedisLeaseStore } from './redis/redis-lease-store.ts';
import { RedisMemberRegistry } from './redis/redis-member-registry.ts';
import { createLogger } from './logger.ts';
import { EmfMetrics } from './metrics/emf-metrics.ts';
import type { PayloadStore } from './payload-store.ts';
import { TemplateCatalog } from './prompts/template-catalog.ts';
import type { RecordStore } from './record-store.ts';
import { HttpRecordStore } from './records/http-record-store.ts';
import { S3PayloadStore } from './s3/s3-payload-store.ts';
import { SqsDeadLetterSink } from './sqs/sqs-dead-letter-sink.ts';
import { SqsPartitionQueue } from './sqs/sqs-partition-queue.ts';

/** Every adapter a warden process uses, built once from the config. */
export interface RuntimeContext {
  config: WardenConfig;
  clock: Clock;
  log: Logger;
  metrics: EmfMetrics;
  aws: AwsClients;
  checkpoints: CheckpointStore;
  /** Encrypted on the way in, digest-checked and decrypted on the way out. */
  payloads: PayloadStore;
  cipher: PayloadCipher;
  accessLog: AccessLog;
  templates: TemplateCatalog;
  minter: FencingTokenMinter;
  deadLetters: DeadLetterSink;
  deadLetterUrls: Record<DeadLetterKind, string>;
  queueFor(partition: number): PartitionQueue;
  queueUrl(partition: number): string;
  /** Built on first use: only the supervisor calls the LLM and the record store. */
  llm(): LlmProvider;
  /** The breaker and the global limiter in front of the provider (built on first use). */
  gate(): Promise<LlmGate>;
  cpu(): CpuPool;
  /** One shared Redis connection: leases, membership, limiter, breaker. */
  redis(): Redis;
  leases(): LeaseStore;
  members(): MemberRegistry;
  records(): RecordStore;
  close(): Promise<void>;
}

async function queueUrl(sqs: SQSClient, name: string): Promise<string> {
  const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!out.QueueUrl) throw new Error(`queue ${name} has no URL`);
  return out.QueueUrl;
}

export async function createRuntime(config: WardenConfig, overrides: { log?: Logger; clock?: Clock; member?: string } = {}): Promise<RuntimeContext> {
  const log = overrides.log ?? createLogger({ level: config.log.level, service: config.service });
  const clock = overrides.clock ?? systemClock;
  const output = config.metrics.output === '-' ? process.stdout : createWriteStream(config.metrics.output, { flags: 'a' });
  const metrics = new EmfMetrics((line) => output.write(`${line}\n`), {
    namespace: config.metrics.namespace,
    service: config.service,
    flushIntervalMs: config.metrics.flushIntervalMs,
  });
  const aws = makeAwsClients({ region: config.aws.region, endpoints: config.aws.endpoints });
  const crypto = await buildCipher(config);
  const prefix = config.queues.prefix;
  const names = Array.from({ length: config.partitions }, (_, p) => `${prefix}${p}`);
  const urls = await Promise.all([...names, `${prefix}dlq-transient`, `${prefix}dlq-permanent`].map((name) => queueUrl(aws.sqs, name)));
  const queues = urls.slice(0, config.partitions).map((url) => new SqsPartitionQueue(aws.sqs, url));
  const deadLetterUrls = { transient: urls[config.partitions] as string, permanent: urls[config.partitions + 1] as string };
  let llm: LlmProvider | undefined;
  let records: RecordStore | undefined;
  let cpu: CpuPool | undefined;
  let redis: Redis | undefined;
  let gate: Promise<{ gate: LlmGate; close: () => Promise<void> }> | undefined;
  const minter = new FencingTokenMinter(aws.doc, config.tables.fences);
  const sharedRedis = () => {
    redis ??= createRedisClient({ url: config.redis.url, onError: (error) => log.warn({ err: error }, 'redis connection error') });
    return redis;
  };
  return {
    config,
    clock,
    log,
    metrics,
    aws,
    checkpoints: new DynamoCheckpointStore(aws.doc, config.tables.jobs, clock),
    payloads: new EncryptedPayloadStore(new S3PayloadStore(aws.s3, config.bucket), crypto.cipher),
    cipher: crypto.cipher,
    accessLog: new DynamoAccessLog(aws.doc, config.tables.access),
    templates: new TemplateCatalog(config.prompts.dir),
    minter,
    deadLetters: new SqsDeadLetterSink(aws.sqs, deadLetterUrls),
    deadLetterUrls,
    queueUrl(partition) {
      const url = urls[partition];
      if (url === undefined || partition >= config.partitions) throw new RangeError(`no partition ${partition} (partitions: ${config.partitions})`);
      return url;
    },
    queueFor(partition) {
      const queue = queues[partition];
      if (!queue) throw new RangeError(`no partition ${partition} (partitions: ${config.partitions})`);
      return queue;
    },
    llm() {
      llm ??= new OpenAiChatProvider({
        name: config.llm.name,
        baseUrl: config.llm.baseUrl,
        ...(config.llm.apiKeyEnv && process.env[config.llm.apiKeyEnv] ? { apiKey: process.env[config.llm.apiKeyEnv] as string } : {}),
        model: config.llm.model,
        connections: config.llm.connections,
        connectTimeoutMs: config.llm.connectTimeoutMs,
        firstByteTimeoutMs: config.llm.firstByteTimeoutMs,
        ...(overrides.member ? { member: overrides.member } : {}),
      });
      return llm;
    },
    redis: sharedRedis,
    async gate() {
      gate ??= buildGate(config, sharedRedis(), log);
      return (await gate).gate;
    },
    leases() {
      return new RedisLeaseStore(sharedRedis(), minter, { clock });
    },
    members() {
      return new RedisMemberRegistry(sharedRedis());
    },
    cpu() {
      cpu ??= new CpuPool({ threads: config.cpu.threads, maxQueue: config.cpu.maxQueue, niceness: config.cpu.niceness });
      return cpu;
    },
    records() {
      records ??= new HttpRecordStore({
        baseUrl: config.recordStore.baseUrl,
        ...(config.recordStore.tokenEnv && process.env[config.recordStore.tokenEnv] ? { token: process.env[config.recordStore.tokenEnv] as string } : {}),
        connections: config.recordStore.connections,
        timeoutMs: config.recordStore.timeoutMs,
      });
      return records;
    },
    async close() {
      await Promise.all(queues.map((queue) => queue.flush().catch(() => undefined)));
      await llm?.close();
      await records?.close();
      await cpu?.close();
      if (gate) await (await gate).close().catch(() => undefined);
      if (redis) await closeRedisClient(redis);
      metrics.close();
      crypto.close();
      aws.destroy();
    },
  };
}
