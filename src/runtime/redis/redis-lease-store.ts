import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ValidationError } from '../../errors.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Lease, LeaseHolder, LeaseStore, TokenMinter } from '../leases/lease-store.ts';
import { wardenCommands, type WardenCommands } from './lua-commands.ts';

export interface RedisLeaseStoreOptions {
  /**
   * Key prefix. Default '{warden}': the braces are a Redis Cluster hash tag, so every lease key
   * lives in one slot and renewMany / listAll can touch them all in one script.
   */
  prefix?: string;
  /** For Lease.acquiredAt. Default: the system clock. */
  clock?: Clock;
  /** Attempt nonces. Default: random UUIDs. */
  newNonce?: () => string;
}

/**
 * Fenced partition leases in Redis, with tokens minted durably in DynamoDB.
 *
 * Key: `{warden}:lease:<p>`, a hash {owner, nonce, token} with a PX expiry.
 *
 * ## Grant protocol: reserve, mint, confirm
 *
 *   1. reserve (Lua, lease-reserve.lua): if the key is free, create it as {owner, nonce} with the
 *      lease TTL and no token. Exactly one of any number of racing attempts gets it; the others
 *      get null at once, having minted nothing.
 *   2. mint (DynamoDB `ADD token 1`, FencingTokenMinter): T, strictly greater than every token
 *      minted before for the partition. DynamoDB does not forget, whatever Redis does.
 *   3. confirm (Lua, lease-confirm.lua): if the key still holds this attempt's {owner, nonce},
 *      store T and restart the TTL. Otherwise the attempt lost (it stalled past its reservation's
 *      expiry, or Redis lost its data); T is simply never used by anyone.
 *
 * Why the holder of a grant always holds a token greater than every earlier grant's, even across
 * Redis data loss: a confirm succeeds only if the reservation it names existed without a break
 * from reserve to confirm (a nonce is never reused, so once the key expires, is deleted or is
 * wiped, that reservation can never come back and its confirm fails). Two reservations of one
 * partition never coexist, so successful grants' [reserve, confirm] intervals are disjoint and
 * ordered in time, and each grant's mint happened inside its own interval. DynamoDB's counter is
 * linearizable, so a later grant's token is greater than every earlier grant's. A wipe only
 * deletes reservations (making their confirms fail); it can't reorder mints.
 *
 * The simpler "mint first, then acquire-if-free" is wrong: A mints 5 and stalls, B mints 6,
 * acquires, releases; A wakes and acquires with 5 < 6. Redis can't refuse it with a stored
 * high-water mark, because that mark is what a wipe forgets.
 *
 * A former holder that missed its lease's expiry (paused, partitioned) still holds its older,
 * lower token until its keeper notices; every DynamoDB write it attempts is conditional on its
 * token being current, so it writes nothing. Renew and release compare owner and token, so it
 * can't extend or delete the new grant either.
 *
 * Cost: a grant is three round trips (two Redis, one DynamoDB); grants are rare. A renewal is
 * one Lua call, for one lease or all of a process' leases.
 */
export class RedisLeaseStore implements LeaseStore {
  private readonly commands: WardenCommands;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly newNonce: () => string;

  constructor(
    redis: Redis,
    private readonly minter: TokenMinter,
    options: RedisLeaseStoreOptions = {},
  ) {
    if (options.prefix !== undefined && (typeof options.prefix !== 'string' || options.prefix === '')) {
      throw new ValidationError('lease_option_invalid', 'RedisLeaseStore: options.prefix must be a non-empty string');
    }
    this.commands = wardenCommands(redis);
    this.prefix = options.prefix ?? '{warden}';
    this.clock = options.clock ?? systemClock;
    this.newNonce = options.newNonce ?? randomUUID;
  }

  key(partition: number): string {
    return `${this.prefix}:lease:${partition}`;
  }

  async acquire(partition: number, owner: string, ttlMs: number): Promise<Lease | null> {
    checkPartition(partition, 'acquire');
    checkOwner(owner, 'acquire');
    checkTtl(ttlMs, 'acquire');
    const key = this.key(partition);
    const nonce = this.newNonce();
    if ((await this.commands.wardenLeaseReserve(key, owner, nonce, ttlMs)) !== 1) return null;

    let token: number;
    try {
      token = await this.minter.mint(partition, owner);
    } catch (error) {
      // Free the partition now rather than after the reservation's TTL.
      await this.commands.wardenLeaseRelease(key, owner, 'nonce', nonce).catch(() => undefined);
      throw error;
    }
    if (!Number.isSafeInteger(token) || token < 1) throw new Error(`minter returned an invalid token ${String(token)} for partition ${partition}`);

    const acquiredAt = this.clock.monotonicMs();
    let confirmed: number;
    try {
      confirmed = await this.commands.wardenLeaseConfirm(key, owner, nonce, String(token), ttlMs);
    } catch (error) {
      // The confirm may or may not have landed; nobody will renew it, so drop it if it did.
      await this.commands.wardenLeaseRelease(key, owner, 'nonce', nonce).catch(() => undefined);
      throw error;
    }
    if (confirmed !== 1) return null;
    return { partition, owner, token, acquiredAt, ttlMs };
  }

  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    const [renewed] = await this.renewMany([lease], ttlMs);
    return renewed === true;
  }

  async renewMany(leases: readonly Lease[], ttlMs: number): Promise<boolean[]> {
    checkTtl(ttlMs, 'renewMany');
    if (leases.length === 0) return [];
    const keys = leases.map((lease) => this.key(lease.partition));
    const args: Array<string | number> = [ttlMs];
    for (const lease of leases) args.push(lease.owner, String(lease.token));
    const results = await this.commands.wardenLeaseRenew(keys.length, ...keys, ...args);
    return leases.map((_, i) => results[i] === 1);
  }

  async release(lease: Lease): Promise<void> {
    await this.commands.wardenLeaseRelease(this.key(lease.partition), lease.owner, 'token', String(lease.token));
  }

  async current(partition: number): Promise<LeaseHolder | null> {
    checkPartition(partition, 'current');
    return (await this.listAll([partition])).get(partition) ?? null;
  }

  async listAll(partitions: readonly number[]): Promise<Map<number, LeaseHolder>> {
    for (const partition of partitions) checkPartition(partition, 'listAll');
    const held = new Map<number, LeaseHolder>();
    if (partitions.length === 0) return held;
    const rows = await this.commands.wardenLeaseRead(partitions.length, ...partitions.map((p) => this.key(p)));
    partitions.forEach((partition, i) => {
      const [owner, token, ttlMs] = rows[i] ?? ['', '', -2];
      if (owner === '') return;
      held.set(partition, { owner, token: token === '' ? null : Number(token), ttlMs: Math.max(0, Number(ttlMs)) });
    });
    return held;
  }
}

function checkPartition(partition: unknown, method: string): void {
  if (!Number.isInteger(partition) || (partition as number) < 0) {
    throw new ValidationError('lease_argument_invalid', `RedisLeaseStore.${method}: partition must be a non-negative integer, got ${JSON.stringify(partition)}`);
  }
}

function checkOwner(owner: unknown, method: string): void {
  if (typeof owner !== 'string' || owner === '') {
    throw new ValidationError('lease_argument_invalid', `RedisLeaseStore.${method}: owner must be a non-empty string`);
  }
}

function checkTtl(ttlMs: unknown, method: string): void {
  if (!Number.isInteger(ttlMs) || (ttlMs as number) < 1) {
    throw new ValidationError('lease_argument_invalid', `RedisLeaseStore.${method}: ttlMs must be a positive integer, got ${JSON.stringify(ttlMs)}`);
  }
}
