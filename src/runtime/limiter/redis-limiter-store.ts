import type { Redis } from 'ioredis';
import { ValidationError, WardenError } from '../../errors.ts';
import type { AdmitAttempt, AdmitReply, Adjustment, BucketSpec, BucketState, LimiterStore, PauseListener } from './limiter-store.ts';
import { LuaScript } from './lua-script.ts';

const LUA = new URL('./lua/', import.meta.url);
const ADMIT = LuaScript.fromFile('admit', LUA);
const ADJUST = LuaScript.fromFile('adjust', LUA);
const PAUSE = LuaScript.fromFile('pause', LUA);
const INSPECT = LuaScript.fromFile('inspect', LUA);

export interface RedisLimiterStoreOptions {
  /**
   * The command connection. Borrowed: the store never closes it. Give it `maxRetriesPerRequest`
   * and an 'error' listener, as for every client in warden.
   */
  redis: Redis;
  /** Prefix of every key and of the pause channel. Default 'warden:'. */
  keyPrefix?: string;
  /** Errors of the pause subscription (a dropped connection, a bad message). Default: ignored. */
  onError?: (error: unknown) => void;
}

const enc = (value: string): string => encodeURIComponent(value);

/**
 * The limiter's state in Redis: one hash per (provider, model), one per tenant of it (expiring
 * once full), one pause key; all in one hash slot (`{provider|model}`), so a cluster runs each
 * script on one node. Pauses are broadcast on one channel, received by a lazily created
 * subscriber connection (a duplicate of the command connection) that the store owns.
 */
export class RedisLimiterStore implements LimiterStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly onError: (error: unknown) => void;
  private readonly listeners = new Set<PauseListener>();
  private subscriber: Redis | undefined;
  private subscribed: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(options: RedisLimiterStoreOptions) {
    if (options?.redis === undefined || typeof options.redis.evalsha !== 'function') {
      throw new ValidationError('limiter_option_invalid', 'RedisLimiterStore: options.redis must be an ioredis client');
    }
    const prefix = options.keyPrefix ?? 'warden:';
    if (typeof prefix !== 'string') {
      throw new ValidationError('limiter_option_invalid', 'RedisLimiterStore: options.keyPrefix must be a string');
    }
    this.redis = options.redis;
    this.prefix = prefix;
    this.channel = `${prefix}lim:pause`;
    this.onError = options.onError ?? (() => undefined);
  }

  /** The bucket id used by `BucketSpec.id`: provider and model, escaped so no name breaks the key. */
  static bucketId(provider: string, model: string): string {
    return `${enc(provider)}|${enc(model)}`;
  }

  private keys(bucket: BucketSpec, tenant: string): [string, string, string] {
    const base = `${this.prefix}lim:{${bucket.id}}`;
    return [`${base}:b`, `${base}:t:${enc(tenant)}`, `${base}:p`];
  }

  private static rates(bucket: BucketSpec): [number, number, number, number] {
    return [
      bucket.rpm / 60_000_000,
      bucket.tpm / 60_000_000,
      (bucket.rpm * bucket.burstMs) / 60_000,
      (bucket.tpm * bucket.burstMs) / 60_000,
    ];
  }

  async admit(bucket: BucketSpec, attempt: AdmitAttempt): Promise<AdmitReply> {
    this.assertOpen();
    const [hash, tenant, pause] = this.keys(bucket, attempt.tenant);
    const reply = (await ADMIT.run(this.redis, [hash, tenant, pause], [
      ...RedisLimiterStore.rates(bucket),
      attempt.tenantShare >= 1 ? 0 : attempt.tenantShare,
      attempt.priority === 'bulk' ? 'b' : 'i',
      attempt.bulkReserveFraction,
      attempt.tokens,
      Math.round(attempt.horizonMs * 1000),
      attempt.returning ? '1' : '0',
    ])) as [number, number, string?];
    if (reply[0] === 1) return { admitted: true, waitMs: reply[1] / 1000 };
    const reason = reply[2];
    if (reason !== 'paused' && reason !== 'rate' && reason !== 'tenant') {
      throw new WardenError('limiter_protocol', `admit.lua answered an unknown reason ${JSON.stringify(reason)}`);
    }
    return { admitted: false, retryMs: reply[1] / 1000, reason };
  }

  async adjust(bucket: BucketSpec, adjustment: Adjustment): Promise<void> {
    this.assertOpen();
    const [hash, tenant] = this.keys(bucket, adjustment.tenant);
    await ADJUST.run(this.redis, [hash, tenant], [
      ...RedisLimiterStore.rates(bucket),
      adjustment.tenantShare >= 1 ? 0 : adjustment.tenantShare,
      adjustment.requests,
      adjustment.tokens,
      adjustment.tenantRequests,
      adjustment.tenantTokens,
    ]);
  }

  async pause(bucket: BucketSpec, pauseMs: number): Promise<number> {
    this.assertOpen();
    const [hash, , pause] = this.keys(bucket, '');
    const [rateR, rateT] = RedisLimiterStore.rates(bucket);
    return Number(await PAUSE.run(this.redis, [hash, pause], [Math.max(1, Math.ceil(pauseMs)), rateR, rateT, this.channel, bucket.id]));
  }

  async inspect(bucket: BucketSpec): Promise<BucketState> {
    this.assertOpen();
    const [hash, , pause] = this.keys(bucket, '');
    const reply = (await INSPECT.run(this.redis, [hash, pause], RedisLimiterStore.rates(bucket))) as [string, string, number, number, number, number];
    return {
      requests: Number(reply[0]),
      tokens: Number(reply[1]),
      pausedMs: reply[2],
      admittedInteractive: reply[3],
      admittedBulk: reply[4],
      refused: reply[5],
    };
  }

  onPause(listener: PauseListener): () => void {
    this.assertOpen();
    this.listeners.add(listener);
    this.subscribe();
    return () => {
      this.listeners.delete(listener);
    };
  }

  private subscribe(): void {
    if (this.subscriber !== undefined) return;
    // A duplicate keeps the borrowed client's options (maxRetriesPerRequest, retry strategy) and
    // re-subscribes by itself after a reconnect.
    const subscriber = this.redis.duplicate();
    this.subscriber = subscriber;
    subscriber.on('error', (error: unknown) => this.onError(error));
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let parsed: { bucket?: unknown; ms?: unknown };
      try {
        parsed = JSON.parse(message) as { bucket?: unknown; ms?: unknown };
      } catch (error) {
        this.onError(error);
        return;
      }
      if (typeof parsed.bucket !== 'string' || typeof parsed.ms !== 'number') return;
      for (const listener of this.listeners) listener(parsed.bucket, parsed.ms);
    });
    this.subscribed = subscriber.subscribe(this.channel).then(
      () => undefined,
      (error: unknown) => this.onError(error),
    );
  }

  ready(): Promise<void> {
    return this.subscribed;
  }

  /** Closes the subscriber it created; the borrowed command connection stays open. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.listeners.clear();
      const subscriber = this.subscriber;
      if (subscriber === undefined) return;
      try {
        await subscriber.quit();
      } catch {
        subscriber.disconnect();
      }
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new WardenError('limiter_closed', 'RedisLimiterStore is closed');
  }
}
