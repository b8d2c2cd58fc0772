import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * warden's Lua scripts as ioredis custom commands: each is sent as EVALSHA, with ioredis falling
 * back to EVAL (which loads it) on a connection that has not seen it or after NOSCRIPT, e.g. on
 * a Redis that restarted empty.
 */
export interface WardenCommands {
  wardenLeaseReserve(key: string, owner: string, nonce: string, ttlMs: number): Promise<number>;
  wardenLeaseConfirm(key: string, owner: string, nonce: string, token: string, ttlMs: number): Promise<number>;
  /** Variable key count: numkeys first, then the keys, then ttl and (owner, token) per key. */
  wardenLeaseRenew(numKeys: number, ...args: Array<string | number>): Promise<number[]>;
  wardenLeaseRelease(key: string, owner: string, field: 'token' | 'nonce', value: string): Promise<number>;
  wardenLeaseRead(numKeys: number, ...keys: string[]): Promise<Array<[string, string, number]>>;
  wardenMemberHeartbeat(key: string, id: string, ttlMs: number): Promise<string[]>;
  wardenMemberLive(key: string): Promise<string[]>;
}

interface ScriptDefinition {
  name: keyof WardenCommands;
  file: string;
  /** Omitted: the caller passes the key count first. */
  numberOfKeys?: number;
  readOnly?: boolean;
}

const SCRIPTS: readonly ScriptDefinition[] = [
  { name: 'wardenLeaseReserve', file: 'lease-reserve.lua', numberOfKeys: 1 },
  { name: 'wardenLeaseConfirm', file: 'lease-confirm.lua', numberOfKeys: 1 },
  { name: 'wardenLeaseRenew', file: 'lease-renew.lua' },
  { name: 'wardenLeaseRelease', file: 'lease-release.lua', numberOfKeys: 1 },
  { name: 'wardenLeaseRead', file: 'lease-read.lua', readOnly: true },
  { name: 'wardenMemberHeartbeat', file: 'member-heartbeat.lua', numberOfKeys: 1 },
  { name: 'wardenMemberLive', file: 'member-live.lua', numberOfKeys: 1 },
];

let sources: Map<string, string> | undefined;

function luaSource(file: string): string {
  sources ??= new Map(SCRIPTS.map((s) => [s.file, readFileSync(new URL(`./lua/${s.file}`, import.meta.url), 'utf8')]));
  const lua = sources.get(file);
  if (lua === undefined) throw new Error(`no Lua script ${file}`);
  return lua;
}

const defined = new WeakSet<Redis>();

/** Defines the commands on `redis` once (several adapters may share one client). */
export function wardenCommands(redis: Redis): WardenCommands {
  if (!defined.has(redis)) {
    for (const script of SCRIPTS) {
      redis.defineCommand(script.name, {
        lua: luaSource(script.file),
        ...(script.numberOfKeys === undefined ? {} : { numberOfKeys: script.numberOfKeys }),
        ...(script.readOnly ? { readOnly: true } : {}),
      });
    }
    defined.add(redis);
  }
  return redis as unknown as WardenCommands;
}
