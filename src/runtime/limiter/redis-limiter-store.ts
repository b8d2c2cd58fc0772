import type { Redis } from 'ioredis';
import { ValidationError, WardenError } from '../../errors.ts';
import type { AdmitAttempt, AdmitReply, Adjustment, BucketSpec, BucketState, LimiterStore, PauseListener } from './limiter-store.ts';
import { LuaScript } from './lua-script.ts';

const LUA = new URL('./lua/', import.meta.url);
const ADMIT = LuaScript.fromFile('admit', LUA);
const PAUSE = LuaScript.fromFile('pause', LUA);
const INSPECT = LuaScript.fromFile('inspect', LUA);

const REASONS = [undefined, 'paused', 'rate', 'tenant'] as const;

export interface RedisLimiterStoreOptions {
  /**
   * The command connection. Borrowed: the store never closes it. Give it `maxRetriesPerRequest`
   * and an 'error' listener, as for every client in warden.
   */
  redis: Redis;
  /** Prefix of every key and of the pause channel. Default 'warden:'. */
  keyPrefix?: string;
  /**
   * How often the admission script looks for idle tenants' shares to delete (a full share is the
   * same as a missing one). Default 60 000.
   */
  tenantSweepMs?: number;
  /** Errors of the pause subscription (a dropped connection, a bad message). Default: ignored. */
  onError?: (error: unknown) => void;
}

const enc = (value: string): string => encodeURIComponent(value);

/**
 * The limiter's state in Redis: one hash per (provider, model) holding the bucket, its lines, its
 * pause and the share of every tenant in use, so one script call reads and writes it with one
 * HMGET and one HSET. The key carries a hash tag (`{provider|model}`), so a cluster runs each
 * script on one node. Pauses are broadcast on one channel, received by a lazily created
 * subscriber connection (a duplicate of the command connection) that the store owns.
 */
export class RedisLimiterStore implements LimiterStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly channel: string;
  private readonly sweepUs: number;
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
    const sweepMs = options.tenantSweepMs ?? 60_000;
    if (typeof sweepMs !== 'number' || !Number.isFinite(sweepMs) || sweepMs < 1) {
      throw new ValidationError('limiter_option_invalid', `RedisLimiterStore: options.tenantSweepMs must be a number of ms >= 1, got ${String(sweepMs)}`);
    }
    this.redis = options.redis;
    this.prefix = prefix;
    this.channel = `${prefix}lim:pause`;
    this.sweepUs = Math.round(sweepMs * 1000);
    this.onError = options.onError ?? (() => undefined);
  }

  /** The bucket id used by `BucketSpec.id`: provider and model, escaped so no name breaks the key. */
  static bucketId(provider: string, model: string): string {
    return `${enc(provider)}|${enc(model)}`;
  }

  private key(bucket: BucketSpec): string {
    return `${this.prefix}lim:{${bucket.id}}:b`;
  }

  private static rates(bucket: BucketSpec): [number, number, number, number] {
    return [
      bucket.rpm / 60_000_000,
      bucket.tpm / 60_000_000,
      (bucket.rpm * bucket.burstMs) / 60_000,
      (bucket.tpm * bucket.burstMs) / 60_000,
    ];
  }

  private run(bucket: BucketSpec, attempts: readonly AdmitAttempt[], adjustments: readonly Adjustment[]): Promise<unknown> {
    const args: Array<string | number> = [
      ...RedisLimiterStore.rates(bucket),
      bucket.tenantShare >= 1 ? 0 : bucket.tenantShare,
      bucket.bulkReserveFraction,
      this.sweepUs,
      adjustments.length,
      attempts.length,
    ];
    for (const a of adjustments) args.push(a.tenant, a.requests, a.tokens, a.tenantRequests, a.tenantTokens);
    for (const a of attempts) args.push(a.tenant, a.priority === 'bulk' ? 'b' : 'i', a.tokens, Math.round(a.horizonMs * 1000), a.returning ? '1' : '0');
    return ADMIT.run(this.redis, [this.key(bucket)], args);
  }

  async admit(bucket: BucketSpec, attempts: readonly AdmitAttempt[], adjustments: readonly Adjustment[]): Promise<AdmitReply[]> {
    this.assertOpen();
    const reply = (await this.run(bucket, attempts, adjustments)) as number[];
    if (!Array.isArray(reply) || reply.length !== attempts.length * 2) {
      throw new WardenError('limiter_protocol', `admit.lua answered ${Array.isArray(reply) ? reply.length : typeof reply} values for ${attempts.length} attempts`);
    }
    return attempts.map((_, i): AdmitReply => {
      const code = reply[2 * i] as number;
      const us = reply[2 * i + 1] as number;
      if (code === 0) return { admitted: true, waitMs: us / 1000 };
      const reason = REASONS[code];
      if (reason === undefined) throw new WardenError('limiter_protocol', `admit.lua answered an unknown code ${JSON.stringify(code)}`);
      return { admitted: false, retryMs: us / 1000, reason };
    });
  }

  async adjust(bucket: BucketSpec, adjustments: readonly Adjustment[]): Promise<void> {
    this.assertOpen();
    if (adjustments.length > 0) await this.run(bucket, [], adjustments);
  }

  async pause(bucket: BucketSpec, pauseMs: number): Promise<number> {
    this.assertOpen();
    const [rateR, rateT] = RedisLimiterStore.rates(bucket);
    return Number(await PAUSE.run(this.redis, [this.key(bucket)], [Math.max(1, Math.ceil(pauseMs)), rateR, rateT, this.channel, bucket.id]));
  }

  async inspect(bucket: BucketSpec): Promise<BucketState> {
    this.assertOpen();
    const reply = (await INSPECT.run(this.redis, [this.key(bucket)], RedisLimiterStore.rates(bucket))) as [string, string, number, number, number, number];
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
