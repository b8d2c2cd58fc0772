/**
 * Fair share with real supervisors on one local stack (real Redis leases, DynamoDB-minted
 * tokens): 1 member owns every partition; 4 members each own ⌊P/4⌋ or ⌈P/4⌉ and every partition
 * is owned exactly once; 2 graceful leaves → the remaining 2 own P/2 each; a join moves only the
 * partitions the newcomer must take. "Moved" is read from the Redis lease holders: a partition
 * that kept its owner AND its fencing token was held without a break.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LeaseHolder } from '../../src/runtime/leases/lease-store.ts';
import { createRuntime, type RuntimeContext } from '../../src/runtime/runtime-context.ts';
import type { LocalStack } from '../../src/stack/local-stack.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';
import { silentLogger, sleep, startOwnershipStack, waitUntil } from '../support/ownership-kit.ts';

const P = 8;
const ALL = Array.from({ length: P }, (_, p) => p);
const CONVERGE_MS = 20_000;

interface Member {
  id: string;
  runtime: RuntimeContext;
  supervisor: Supervisor;
  stopped: boolean;
}

let stack: LocalStack;
let observer: RuntimeContext;
const members = new Map<string, Member>();

async function join(id: string): Promise<Member> {
  const runtime = await createRuntime(stack.config, { member: id, log: silentLogger() });
  const supervisor = new Supervisor(runtime, { id });
  const member = { id, runtime, supervisor, stopped: false };
  members.set(id, member);
  await supervisor.start();
  return member;
}

async function leave(member: Member): Promise<void> {
  if (member.stopped) return;
  member.stopped = true;
  await member.supervisor.stop(2000);
  await member.runtime.close();
}

type Holders = Map<number, LeaseHolder>;

/** Why the fleet `ids` is not (yet) in a fair, exclusive assignment; undefined when it is. */
function unfairness(holders: Holders, ids: string[]): string | undefined {
  const floor = Math.floor(P / ids.length);
  const ceil = Math.ceil(P / ids.length);
  for (const p of ALL) {
    const holder = holders.get(p);
    if (!holder) return `partition ${p} has no lease holder`;
    if (holder.token === null) return `partition ${p} is being granted`;
    if (!ids.includes(holder.owner)) return `partition ${p} is held by ${holder.owner}, not a live member`;
  }
  const seen = new Map<number, string>();
  for (const id of ids) {
    const owned = (members.get(id) as Member).supervisor.ownedPartitions();
    const held = ALL.filter((p) => holders.get(p)?.owner === id);
    if (owned.join() !== held.join()) return `${id} runs actors for [${owned}] but holds the leases of [${held}]`;
    if (owned.length < floor || owned.length > ceil) return `${id} owns ${owned.length}, not ${floor}..${ceil}`;
    for (const p of owned) {
      const other = seen.get(p);
      if (other) return `partition ${p} is owned by ${other} and ${id}`;
      seen.set(p, id);
    }
  }
  if (seen.size !== P) return `only ${seen.size} of ${P} partitions are owned`;
  return undefined;
}

/**
 * Waits until the assignment is fair and exclusive, and stays exactly the same (owners and
 * tokens) for 1.2 s, i.e. six rebalance rounds: converged, not passing through.
 */
async function converged(ids: string[]): Promise<Holders> {
  let stableSince = 0;
  let last = '';
  let why: string | undefined = 'not sampled yet';
  try {
    return await waitUntil(
      `fair share over ${ids.join(', ')}`,
      async () => {
        const holders = await observer.leases().listAll(ALL);
        why = unfairness(holders, ids);
        const fingerprint = ALL.map((p) => `${holders.get(p)?.owner}:${holders.get(p)?.token}`).join(',');
        if (why !== undefined || fingerprint !== last) {
          last = why === undefined ? fingerprint : '';
          stableSince = Date.now();
          return undefined;
        }
        return Date.now() - stableSince >= 1200 ? holders : undefined;
      },
      CONVERGE_MS,
      100,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last reason: ${why}`);
  }
}

function ownersOf(holders: Holders, id: string): number[] {
  return ALL.filter((p) => holders.get(p)?.owner === id);
}

/** Partitions whose grant changed (another owner, or the same owner with a new token). */
function moved(before: Holders, afterwards: Holders): number[] {
  return ALL.filter((p) => before.get(p)?.owner !== afterwards.get(p)?.owner || before.get(p)?.token !== afterwards.get(p)?.token);
}

before(async () => {
  stack = await startOwnershipStack({ partitions: P });
  observer = await createRuntime(stack.config, { log: silentLogger() });
});

after(async () => {
  await Promise.allSettled([...members.values()].map((member) => leave(member)));
  await observer?.close();
  await stack?.stop();
});

describe('fair share converges for 1 → 4 → 2 → 3 supervisors', () => {
  let one: Holders;
  let four: Holders;
  let two: Holders;

  it('a single supervisor owns every partition', async () => {
    const m1 = await join('fs-m1');
    one = await converged(['fs-m1']);
    assert.deepEqual(m1.supervisor.ownedPartitions(), ALL);
    assert.deepEqual(ownersOf(one, 'fs-m1'), ALL);
    for (const p of ALL) assert.ok((one.get(p)?.token ?? 0) >= 1, `partition ${p} carries a minted token`);
  });

  it('four supervisors own ⌊P/4⌋ or ⌈P/4⌉ each, every partition exactly once; the first keeps its share without a new grant', async () => {
    await Promise.all(['fs-m2', 'fs-m3', 'fs-m4'].map((id) => join(id)));
    four = await converged(['fs-m1', 'fs-m2', 'fs-m3', 'fs-m4']);
    const counts = ['fs-m1', 'fs-m2', 'fs-m3', 'fs-m4'].map((id) => (members.get(id) as Member).supervisor.ownedPartitions().length);
    assert.deepEqual(counts, [2, 2, 2, 2]);
    // fs-m1 handed off exactly the partitions above its share; those it kept it never let go of.
    const kept = ownersOf(four, 'fs-m1');
    for (const p of kept) assert.equal(four.get(p)?.token, one.get(p)?.token, `partition ${p} stayed with fs-m1 under the same grant`);
    const handed = moved(one, four);
    assert.equal(handed.length, P - kept.length);
    for (const p of handed) assert.ok((four.get(p)?.token ?? 0) > (one.get(p)?.token ?? 0), `partition ${p}: the new owner's token is higher`);
  });

  it('after two graceful leaves the remaining two own P/2 each, and only the leavers’ partitions moved', async () => {
    const before = four;
    await Promise.all([leave(members.get('fs-m3') as Member), leave(members.get('fs-m4') as Member)]);
    two = await converged(['fs-m1', 'fs-m2']);
    assert.equal((members.get('fs-m1') as Member).supervisor.ownedPartitions().length, P / 2);
    assert.equal((members.get('fs-m2') as Member).supervisor.ownedPartitions().length, P / 2);
    const leavers = [...ownersOf(before, 'fs-m3'), ...ownersOf(before, 'fs-m4')].sort((a, b) => a - b);
    assert.deepEqual(moved(before, two), leavers, 'the survivors kept every grant they had');
    for (const p of leavers) assert.ok((two.get(p)?.token ?? 0) > (before.get(p)?.token ?? 0));
  });

  it('a joining supervisor takes exactly its share, and nothing else moves', async () => {
    const before = two;
    await join('fs-m5');
    const three = await converged(['fs-m1', 'fs-m2', 'fs-m5']);
    const newcomer = ownersOf(three, 'fs-m5');
    assert.equal(newcomer.length, Math.floor(P / 3), 'the extra partitions stay with the members that held the most');
    assert.deepEqual(moved(before, three), newcomer, 'only the partitions the newcomer now owns changed hands');
    // Each old member gave up only what it had above its new quota.
    for (const id of ['fs-m1', 'fs-m2']) {
      const kept = ownersOf(three, id);
      assert.equal(kept.length, Math.ceil(P / 3));
      for (const p of kept) assert.equal(before.get(p)?.owner, id);
    }
    // And the assignment holds still: no flapping once converged.
    await sleep(1000);
    assert.deepEqual(moved(three, await observer.leases().listAll(ALL)), []);
  });
});
