import type { Redis } from 'ioredis';
import { makeAwsClients, type AwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { FencingTokenMinter } from '../../src/runtime/dynamo/fencing-token-minter.ts';
import { closeRedisClient, createRedisClient } from '../../src/runtime/redis/redis-client.ts';
import { startDynaliteServer, type DynaliteServer } from '../../src/stack/infra/dynalite-server.ts';
import { ensureTable, fencesTableSchema } from '../../src/stack/infra/provision-tables.ts';
import { startRedisServer, type RedisServer } from '../../src/stack/infra/redis-server.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export interface LeaseFixture {
  redis: RedisServer;
  /** Present when started with dynamo: true. */
  minter: FencingTokenMinter;
  /** A new client (reconnects after restarts); closed by stop(). */
  client(): Redis;
  stop(): Promise<void>;
}

const FENCES = 'test-fences';

/**
 * A real redis-server and (optionally) dynalite with the fences table, on free 127.0.0.1 ports.
 * Without dynamo, tokens come from an in-memory counter (tests that are not about durability).
 */
export async function startLeaseFixture(options: { dynamo: boolean }): Promise<LeaseFixture> {
  const [redis, dynalite] = await Promise.all([
    startRedisServer(),
    options.dynamo ? startDynaliteServer() : Promise.resolve(undefined as DynaliteServer | undefined),
  ]);
  let aws: AwsClients | undefined;
  let minter: FencingTokenMinter;
  if (dynalite !== undefined) {
    aws = makeAwsClients({ region: 'us-east-1', endpoints: { dynamodb: dynalite.endpoint } });
    await ensureTable(aws.ddb, fencesTableSchema(FENCES));
    minter = new FencingTokenMinter(aws.doc, FENCES);
  } else {
    const counters = new Map<number, number>();
    minter = {
      async mint(partition: number) {
        const next = (counters.get(partition) ?? 0) + 1;
        counters.set(partition, next);
        return next;
      },
    } as unknown as FencingTokenMinter;
  }
  const clients: Redis[] = [];
  return {
    redis,
    minter,
    client() {
      const client = createRedisClient({ url: redis.url, maxRetriesPerRequest: 5, reconnectStepMs: 20, reconnectMaxMs: 100 });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((client) => closeRedisClient(client)));
      aws?.destroy();
      await Promise.all([redis.stop(), dynalite?.stop()]);
    },
  };
}
