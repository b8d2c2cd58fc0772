/**
 * Summarizes V8 .cpuprofile files (node --cpu-prof) over a time window: where the CPU went, by
 * package. Two views:
 *   - self: the frame on top of the stack (node core's http or stream code counts as node core);
 *   - owner: the innermost frame that belongs to a package or to warden's own source, so the
 *     node core work a package asks for (sockets, streams, hashing) is billed to that package.
 * '(program)' is native code outside JavaScript (the VM, the parser, libuv, syscalls),
 * '(garbage collector)' is GC; neither has an owner frame.
 *
 * Sample timestamps are on the same monotonic clock as process.hrtime() in any process of the
 * machine, so a driver can cut the profile to the window it measured (µs, hrtime/1000).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const AWS_FAMILY = /^(@aws-sdk\/|@smithy\/|@aws-crypto\/|fast-xml-parser|strnum|bowser|tslib|uuid)/;
const PINO_FAMILY = /^(pino|sonic-boom|fast-redact|@pinojs\/|thread-stream|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify|real-require)/;
const REDIS_FAMILY = /^(ioredis|@ioredis\/|redis-parser|redis-errors|denque|cluster-key-slot|standard-as-callback|lodash\.)/;

function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const rest = url.slice(at + '/node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

/** The bucket a frame's code belongs to; undefined for node core and VM pseudo-frames. */
export function familyOf(frame: CallFrame): string | undefined {
  const { url } = frame;
  if (url === '') return undefined;
  if (url.startsWith('node:')) return undefined;
  const pkg = packageOf(url);
  if (pkg !== undefined) {
    if (AWS_FAMILY.test(pkg)) return 'AWS SDK v3 (@aws-sdk, @smithy, deps)';
    if (pkg === 'undici') return 'undici';
    if (PINO_FAMILY.test(pkg)) return 'pino (+ sonic-boom, fast-redact)';
    if (REDIS_FAMILY.test(pkg)) return 'ioredis';
    if (pkg === 'piscina') return 'piscina';
    if (pkg === 'ajv') return 'ajv';
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return 'tsx (loader)';
    if (pkg === 'bullmq' || pkg === 'msgpackr' || pkg === 'cron-parser' || pkg === 'semver') return 'bullmq';
    return `other package: ${pkg}`;
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return `warden ${url.slice(src + 1).split('/').slice(0, 2).join('/')}`;
  if (url.includes('/bench/')) return 'bench harness';
  return 'other';
}

const NATIVE_SOCKET_WRITES = new Set(['writev', 'writeUtf8String', 'writeLatin1String', 'writeBuffer', 'writeAsciiString', 'writeUcs2String']);

function selfBucket(frame: CallFrame): string {
  if (frame.url === '' && NATIVE_SOCKET_WRITES.has(frame.functionName)) return 'native socket/stream writes (writev, write*String)';
  if (frame.url === '') return frame.functionName || '(anonymous native)';
  if (frame.url.startsWith('node:')) {
    const module = frame.url.slice(5).replace(/^internal\//, '');
    return `node core: ${module.split('/').slice(0, 2).join('/')}`;
  }
  return familyOf(frame) ?? 'other';
}

export interface ProfileSummary {
  files: number;
  /** Sampled CPU time inside the window, ms (idle excluded). */
  busyMs: number;
  idleMs: number;
  byOwner: Array<{ bucket: string; ms: number; share: number }>;
  bySelf: Array<{ bucket: string; ms: number; share: number }>;
  topFunctions: Array<{ fn: string; where: string; ms: number; share: number }>;
}

/** Summarizes every *.cpuprofile in `dir` (all threads), restricted to [fromUs, toUs] when given. */
export function summarizeProfiles(dir: string, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const owner = new Map<string, number>();
  const self = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  let busyUs = 0;
  let idleUs = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const ownerCache = new Map<number, string>();
    const ownerOf = (id: number): string => {
      const cached = ownerCache.get(id);
      if (cached !== undefined) return cached;
      const leaf = byId.get(id)!.callFrame;
      let result: string;
      if (leaf.url === '' && leaf.functionName.startsWith('(')) result = leaf.functionName;
      else {
        result = 'node core (no JS caller)';
        for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
          const family = familyOf(byId.get(at)!.callFrame);
          if (family !== undefined) {
            result = family;
            break;
          }
        }
      }
      ownerCache.set(id, result);
      return result;
    };
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i += 1) {
      t += profile.timeDeltas[i] ?? 0;
      const dt = profile.timeDeltas[i + 1] ?? 0;
      if (window && (t < window.fromUs || t > window.toUs)) continue;
      const id = profile.samples[i] as number;
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(idle)') {
        idleUs += dt;
        continue;
      }
      busyUs += dt;
      const o = ownerOf(id);
      owner.set(o, (owner.get(o) ?? 0) + dt);
      const s = selfBucket(frame);
      self.set(s, (self.get(s) ?? 0) + dt);
      const where = frame.url === '' ? '' : `${frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/\/work\/main\//, '')}:${frame.lineNumber + 1}`;
      const key = `${frame.functionName}@${where}`;
      const entry = fns.get(key) ?? { fn: frame.functionName || '(anonymous)', where, us: 0 };
      entry.us += dt;
      fns.set(key, entry);
    }
  }
  const rank = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([bucket, us]) => ({ bucket, ms: Math.round(us / 100) / 10, share: busyUs ? Math.round((1000 * us) / busyUs) / 10 : 0 }));
  return {
    files: files.length,
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    byOwner: rank(owner),
    bySelf: rank(self).slice(0, 20),
    topFunctions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 25)
      .map((f) => ({ fn: f.fn, where: f.where, ms: Math.round(f.us / 100) / 10, share: busyUs ? Math.round((1000 * f.us) / busyUs) / 10 : 0 })),
  };
}

/**
 * The summary as markdown tables. Sample times are wall time while the thread was not idle (they
 * include time the process waited for a core on a busy machine), so per-job figures come from
 * shares of the CPU the kernel billed: `cpuUsPerJob` (utime+stime per job of the process).
 */
export function profileMarkdown(summary: ProfileSummary, cpuUsPerJob: number): string {
  const perJob = (share: number) => `${Math.round((share / 100) * cpuUsPerJob)} µs`;
  const lines = ['| owner (innermost package frame on the stack) | share | ≈ CPU per job |', '| --- | ---: | ---: |'];
  for (const row of summary.byOwner.slice(0, 14)) lines.push(`| ${row.bucket} | ${row.share}% | ${perJob(row.share)} |`);
  lines.push('', '| self time (top of stack) | share |', '| --- | ---: |');
  for (const row of summary.bySelf.slice(0, 12)) lines.push(`| ${row.bucket} | ${row.share}% |`);
  lines.push('', '| top self-time functions | where | share |', '| --- | --- | ---: |');
  for (const row of summary.topFunctions.slice(0, 15)) lines.push(`| \`${row.fn}\` | ${row.where} | ${row.share}% |`);
  return lines.join('\n');
}
