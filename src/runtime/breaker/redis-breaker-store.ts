import type { Redis } from 'ioredis';
import { ValidationError, WardenError } from '../../errors.ts';
import { LuaScript } from '../limiter/lua-script.ts';
import type { BreakerAdmitReply, BreakerOutcomes, BreakerPolicy, BreakerState, BreakerStatus, BreakerStore } from './breaker-store.ts';

const LUA = new URL('./lua/', import.meta.url);
const ADMIT = LuaScript.fromFile('admit', LUA);
const RECORD = LuaScript.fromFile('record', LUA);
const INSPECT = LuaScript.fromFile('inspect', LUA);

export interface RedisBreakerStoreOptions {
  /** Borrowed command connection (with `maxRetriesPerRequest` and an 'error' listener). */
  redis: Redis;
  /** Default 'warden:'. */
  keyPrefix?: string;
}

const STATES: ReadonlySet<string> = new Set(['closed', 'open', 'half_open']);

function state(value: unknown): BreakerState {
  if (typeof value !== 'string' || !STATES.has(value)) throw new WardenError('breaker_protocol', `breaker script answered an unknown state ${JSON.stringify(value)}`);
  return value as BreakerState;
}

/** Breaker state per provider: one hash holding the state and the rolling window. */
export class RedisBreakerStore implements BreakerStore {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(options: RedisBreakerStoreOptions) {
    if (options?.redis === undefined || typeof options.redis.evalsha !== 'function') {
      throw new ValidationError('breaker_option_invalid', 'RedisBreakerStore: options.redis must be an ioredis client');
    }
    if (options.keyPrefix !== undefined && typeof options.keyPrefix !== 'string') {
      throw new ValidationError('breaker_option_invalid', 'RedisBreakerStore: options.keyPrefix must be a string');
    }
    this.redis = options.redis;
    this.prefix = options.keyPrefix ?? 'warden:';
  }

  private key(provider: string): string {
    return `${this.prefix}brk:{${encodeURIComponent(provider)}}:s`;
  }

  async admit(provider: string, policy: BreakerPolicy): Promise<BreakerAdmitReply> {
    const reply = (await ADMIT.run(this.redis, [this.key(provider)], [policy.halfOpenProbes, policy.probeTimeoutMs])) as [number, number, string];
    if (reply[0] === 1) return { kind: 'pass' };
    if (reply[0] === 2) return { kind: 'probe' };
    const s = state(reply[2]);
    return { kind: 'wait', waitMs: Math.max(0, reply[1]), state: s === 'closed' ? 'open' : s };
  }

  async record(provider: string, outcomes: BreakerOutcomes, policy: BreakerPolicy): Promise<BreakerState> {
    const reply = (await RECORD.run(this.redis, [this.key(provider)], [
      outcomes.successes,
      outcomes.failures,
      policy.bucketMs,
      policy.windowBuckets,
      policy.failureRateThreshold,
      policy.minimumRequests,
      policy.openMs,
    ])) as [string, number, number];
    return state(reply[0]);
  }

  async inspect(provider: string, policy: BreakerPolicy): Promise<BreakerStatus> {
    const reply = (await INSPECT.run(this.redis, [this.key(provider)], [policy.bucketMs, policy.windowBuckets])) as [string, number, number, number, number];
    return { state: state(reply[0]), requests: reply[1], failures: reply[2], openForMs: reply[3], probesInFlight: reply[4] };
  }
}
