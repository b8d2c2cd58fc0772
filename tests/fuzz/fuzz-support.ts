import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { SignJWT } from 'jose';
import { signTestToken, TEST_JWT_SECRET, TEST_TENANT, type Harness } from '../support/harness.ts';

/** Cases per fuzzer: `WARDEN_FUZZ_RUNS`, default 1,000 (the brief's floor). */
export function fuzzRuns(fallback = 1_000): number {
  const raw = process.env['WARDEN_FUZZ_RUNS'];
  if (raw === undefined || raw === '') return fallback;
  const runs = Number(raw);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`WARDEN_FUZZ_RUNS must be a positive integer, got ${JSON.stringify(raw)}`);
  return runs;
}

/** The seed: `WARDEN_FUZZ_SEED` to replay a run, else a fixed one so the suite is deterministic. */
export function fuzzSeed(fallback = 20_250_501): number {
  const raw = process.env['WARDEN_FUZZ_SEED'];
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

/**
 * Records every unhandled rejection and uncaught exception of this process while a fuzz run is
 * on: the API and the supervisor run in it, so either crashing shows here.
 */
export function captureCrashes(): { stop(): unknown[] } {
  const seen: unknown[] = [];
  const onError = (error: unknown) => seen.push(error);
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    stop() {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
      return seen;
    },
  };
}

export async function scanJobIds(h: Harness): Promise<string[]> {
  const ids: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await h.runtime.aws.doc.send(
      new ScanCommand({ TableName: h.stack.config.tables.jobs, ProjectionExpression: 'pk', ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    for (const item of out.Items ?? []) ids.push(item['pk'] as string);
    start = out.LastEvaluatedKey;
  } while (start);
  return ids;
}

export async function listPayloadKeys(h: Harness): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await h.runtime.aws.s3.send(new ListObjectsV2Command({ Bucket: h.stack.config.bucket, ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of out.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Each partition's last minted fencing token: a restarted (crashed) actor mints a new one. */
export async function fenceTokens(h: Harness): Promise<number[]> {
  return Promise.all(
    Array.from({ length: h.stack.config.partitions }, async (_, p) => {
      const out = await h.runtime.aws.doc.send(new GetCommand({ TableName: h.stack.config.tables.fences, Key: { pk: `partition#${p}` }, ConsistentRead: true }));
      return Number(out.Item?.['token'] ?? 0);
    }),
  );
}

/** A compact, stable summary of failures for an assertion message: the first few of each kind. */
export function summarize<T extends { kind: string }>(failures: T[], perKind = 2, max = 20): string {
  const byKind = new Map<string, T[]>();
  for (const failure of failures) {
    const kind = failure.kind.split(':').slice(0, 2).join(':');
    const list = byKind.get(kind) ?? [];
    if (list.length < perKind) list.push(failure);
    byKind.set(kind, list);
  }
  const counts = new Map<string, number>();
  for (const failure of failures) {
    const kind = failure.kind.split(':').slice(0, 2).join(':');
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const lines = [...byKind.entries()].slice(0, max).flatMap(([kind, list]) => [`${kind} (${counts.get(kind)}):`, ...list.map((f) => `  ${JSON.stringify(f)}`)]);
  return `${failures.length} failures\n${lines.join('\n')}`;
}

/**
 * What credential a fuzzed HTTP request carries. `valid`: the harness credential of the body's
 * tenant (so a valid body can be accepted); every other mode must be refused before the body is
 * read: 401, or 403 `tenant_mismatch` for a valid credential of another tenant.
 */
export const WRONG_AUTH_MODES = ['missing', 'unknown_key', 'bad_signature', 'expired', 'no_exp', 'no_tenant_claim', 'alg_none', 'wrong_scheme', 'other_tenant'] as const;
export type AuthMode = 'valid' | (typeof WRONG_AUTH_MODES)[number];

const TENANT = /^[A-Za-z0-9_-]{1,64}$/;

/** The tenant a body names, if it names one the way the API would read it (last duplicate key wins). */
export function claimedTenant(body: Buffer | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as { base_id?: unknown } | null;
    const claimed = parsed !== null && typeof parsed === 'object' ? parsed.base_id : undefined;
    return typeof claimed === 'string' && TENANT.test(claimed) ? claimed : undefined;
  } catch {
    return undefined;
  }
}

/** The Authorization header for a mode and tenant; undefined sends none. */
export async function fuzzAuthorization(h: Harness, mode: AuthMode, tenant: string = TEST_TENANT): Promise<string | undefined> {
  const now = Math.floor(Date.now() / 1000);
  const secret = new TextEncoder().encode(TEST_JWT_SECRET);
  switch (mode) {
    case 'valid':
      return h.authFor(tenant);
    case 'missing':
      return undefined;
    case 'unknown_key':
      return 'Bearer wdn_this-key-was-never-issued-0123456789';
    case 'bad_signature':
      return `Bearer ${await signTestToken(tenant, { secret: 'not-the-harness-secret-not-the-harness-secret' })}`;
    case 'expired':
      return `Bearer ${await signTestToken(tenant, { expiresIn: now - 600 })}`;
    case 'no_exp':
      return `Bearer ${await new SignJWT({ tenant }).setProtectedHeader({ alg: 'HS256' }).setSubject('svc').sign(secret)}`;
    case 'no_tenant_claim':
      return `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('svc').setExpirationTime('1h').sign(secret)}`;
    case 'alg_none':
      return `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ tenant, sub: 'svc', exp: now + 600 })).toString('base64url')}.`;
    case 'wrong_scheme':
      return `Basic ${Buffer.from(`${tenant}:password`).toString('base64')}`;
    case 'other_tenant':
      return h.authFor(tenant === 'appFuzzOther' ? 'appFuzzOther2' : 'appFuzzOther');
  }
}
