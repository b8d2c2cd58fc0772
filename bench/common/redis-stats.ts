/** INFO commandstats of a redis-server: commands executed, including those run inside Lua scripts. */
import { Redis } from 'ioredis';

export async function commandStats(url: string): Promise<Map<string, number>> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('commandstats');
    const calls = new Map<string, number>();
    for (const line of info.split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
      if (match) calls.set(match[1] as string, Number(match[2]));
    }
    return calls;
  } finally {
    client.disconnect();
  }
}

/** after − before, without the INFO and CONNECTION bookkeeping the measurement itself adds. */
export function commandDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of after) {
    if (name === 'info') continue;
    const d = calls - (before.get(name) ?? 0);
    if (d > 0) delta[name] = d;
  }
  return delta;
}

export const sum = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);
