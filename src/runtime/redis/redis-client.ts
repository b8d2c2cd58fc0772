import { Redis } from 'ioredis';
import { ValidationError } from '../../errors.ts';

export interface RedisClientOptions {
  /** redis://host:port[/db]. */
  url: string;
  /**
   * Called with every connection error. ioredis emits one per failed reconnect; without a
   * listener it prints each to stderr, so one is always installed. Default: ignore (the failing
   * commands reject anyway and their callers decide).
   */
  onError?: (error: Error) => void;
  /**
   * Reconnects a command may wait through before it rejects. Default 2: a renewal must fail fast
   * (the lease keeper's deadline decides), never queue behind an outage.
   */
  maxRetriesPerRequest?: number;
  /** A command without a reply by then rejects. Default 2 000 ms. */
  commandTimeoutMs?: number;
  /** Default 2 000 ms. */
  connectTimeoutMs?: number;
  /** Reconnect delay: `min(attempt × step, max)`. Defaults 50 and 1 000 ms; reconnects forever. */
  reconnectStepMs?: number;
  reconnectMaxMs?: number;
}

function positiveInteger(value: unknown, field: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  throw new ValidationError('redis_option_invalid', `createRedisClient: options.${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
}

/**
 * A Redis client for leases and membership: bounded retries and command timeouts (a stopped Redis
 * makes calls fail within seconds instead of hanging), an 'error' listener always installed, and
 * reconnects forever so it comes back after a restart or failover.
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  if (typeof options?.url !== 'string' || !/^rediss?:\/\//.test(options.url)) {
    throw new ValidationError('redis_option_invalid', `createRedisClient: options.url must be a redis:// URL, got ${JSON.stringify(options?.url)}`);
  }
  const maxRetriesPerRequest = positiveInteger(options.maxRetriesPerRequest, 'maxRetriesPerRequest', 2, 0);
  const commandTimeout = positiveInteger(options.commandTimeoutMs, 'commandTimeoutMs', 2_000);
  const connectTimeout = positiveInteger(options.connectTimeoutMs, 'connectTimeoutMs', 2_000);
  const step = positiveInteger(options.reconnectStepMs, 'reconnectStepMs', 50);
  const max = positiveInteger(options.reconnectMaxMs, 'reconnectMaxMs', 1_000);
  const redis = new Redis(options.url, {
    maxRetriesPerRequest,
    commandTimeout,
    connectTimeout,
    retryStrategy: (attempt) => Math.min(attempt * step, max),
  });
  const onError = options.onError ?? (() => undefined);
  redis.on('error', (error: Error) => onError(error));
  return redis;
}

/** QUITs gracefully, or drops the connection if Redis does not answer in time. Idempotent. */
export async function closeRedisClient(redis: Redis, timeoutMs = 1_000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
