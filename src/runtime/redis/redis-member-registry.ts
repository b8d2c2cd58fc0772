import type { Redis } from 'ioredis';
import { ValidationError } from '../../errors.ts';
import type { MemberRegistry } from '../leases/member-registry.ts';
import { wardenCommands, type WardenCommands } from './lua-commands.ts';

export interface RedisMemberRegistryOptions {
  /** Key prefix. Default '{warden}' (the same hash tag as the leases). */
  prefix?: string;
}

/**
 * Members in one sorted set `{warden}:members`: member id → expiry (ms since epoch, by the Redis
 * server's clock). A heartbeat is one script that refreshes, prunes and reads. If Redis loses its
 * data the set is empty until each member's next heartbeat puts it back.
 */
export class RedisMemberRegistry implements MemberRegistry {
  private readonly commands: WardenCommands;
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    options: RedisMemberRegistryOptions = {},
  ) {
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '')) {
      throw new ValidationError('membership_option_invalid', 'RedisMemberRegistry: options.prefix must be a non-empty string');
    }
    this.commands = wardenCommands(redis);
    this.key = `${options.prefix ?? '{warden}'}:members`;
  }

  async heartbeat(id: string, ttlMs: number): Promise<string[]> {
    if (typeof id !== 'string' || id === '') throw new ValidationError('membership_argument_invalid', 'RedisMemberRegistry.heartbeat: id must be a non-empty string');
    if (!Number.isInteger(ttlMs) || ttlMs < 1) {
      throw new ValidationError('membership_argument_invalid', `RedisMemberRegistry.heartbeat: ttlMs must be a positive integer, got ${JSON.stringify(ttlMs)}`);
    }
    return sorted(await this.commands.wardenMemberHeartbeat(this.key, id, ttlMs));
  }

  async remove(id: string): Promise<void> {
    await this.redis.zrem(this.key, id);
  }

  async live(): Promise<string[]> {
    return sorted(await this.commands.wardenMemberLive(this.key));
  }
}

function sorted(ids: string[]): string[] {
  // Plain code-unit order: the same on every member, whatever its locale.
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
