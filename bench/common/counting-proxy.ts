/** Parent side of counting-proxy-entry.ts: starts it, knows its ports, takes and diffs snapshots. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ProxyCounts } from './counting-proxy-entry.ts';

export type { ProxyCounts };

const ENTRY = fileURLToPath(new URL('./counting-proxy-entry.ts', import.meta.url));

export interface CountingProxy {
  /** http://127.0.0.1:<port> per HTTP target name, and redis://127.0.0.1:<port> under 'redis'. */
  urls: Record<string, string>;
  pid: number;
  snapshot(): Promise<ProxyCounts>;
  stop(): Promise<void>;
}

export async function startCountingProxy(spec: { http: Array<{ name: string; target: string }>; redis?: { target: string } }): Promise<CountingProxy> {
  const child: ChildProcess = fork(ENTRY, [JSON.stringify(spec)], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ports = await new Promise<Record<string, number>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('counting proxy did not start within 20 s')), 20_000);
    child.once('message', (message: { type: string; ports: Record<string, number> }) => {
      clearTimeout(timer);
      resolve(message.ports);
    });
    void exited.then(() => reject(new Error('counting proxy exited before it started')));
  });
  const urls: Record<string, string> = {};
  for (const [name, port] of Object.entries(ports)) urls[name] = name === 'redis' ? `redis://127.0.0.1:${port}` : `http://127.0.0.1:${port}`;
  return {
    urls,
    pid: child.pid ?? -1,
    snapshot() {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('counting proxy did not answer')), 10_000);
        const onMessage = (message: { type: string; counts: ProxyCounts }) => {
          if (message.type !== 'counts') return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(message.counts);
        };
        child.on('message', onMessage);
        child.send({ type: 'snapshot' });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** after − before, per name and operation, dropping zeros. */
export function diffCounts(before: ProxyCounts, after: ProxyCounts): ProxyCounts {
  const http: ProxyCounts['http'] = {};
  for (const [name, ops] of Object.entries(after.http)) {
    for (const [op, calls] of Object.entries(ops)) {
      const d = calls - (before.http[name]?.[op] ?? 0);
      if (d > 0) (http[name] ??= {})[op] = d;
    }
  }
  const redis: ProxyCounts['redis'] = {};
  for (const [command, calls] of Object.entries(after.redis)) {
    const d = calls - (before.redis[command] ?? 0);
    if (d > 0) redis[command] = d;
  }
  return { http, redis };
}
