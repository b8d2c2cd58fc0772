/**
 * The chaos scenario in its short form: a fleet of 3 real supervisor processes on the local stack,
 * ~300 submissions (a fifth duplicates, records edited mid-flight), one kill -9 (restarted), one
 * SIGSTOP past the lease TTL, one Redis restart with its data gone, a join and a leave. The
 * verdict is counted at the simulated LLM and record store and read from the audit trails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runChaos, type ChaosReport } from '../../src/stack/chaos/run-chaos.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const dir = mkdtempSync(join(tmpdir(), 'warden-chaos-short-'));
let failed = false;

/**
 * What the supervisors' own logs say about ownership, for a failure message: every lease loss
 * (member, partition, reason) and the jobs that failed for a reason other than a lost ownership.
 * Lease losses of members that were neither killed nor paused are faults the scenario did not
 * inject (a starved host), and calls they had in flight are not in inflight_at_faults.
 */
function ownershipDiagnostics(): string {
  const losses: string[] = [];
  const failures = new Map<string, number>();
  for (const file of readdirSync(dir).filter((name) => /^chaos-.*\.log$/.test(name))) {
    for (const text of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!text.startsWith('{')) continue;
      let line: Record<string, any>;
      try {
        line = JSON.parse(text);
      } catch {
        continue;
      }
      if (line['msg'] === 'partition lease lost') losses.push(`${line['time']} ${line['member']} p${line['partition']} token ${line['token']} ${line['reason']}`);
      if (line['msg'] === 'job handling failed; message will be redelivered') {
        const key = `${line['member']} ${line['err']?.type ?? '?'}`;
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
  }
  return `lease losses:\n  ${losses.sort().join('\n  ') || 'none'}\njob handling failures by member and error:\n  ${
    [...failures].map(([key, n]) => `${key}: ${n}`).join('\n  ') || 'none'
  }`;
}

after(() => {
  // runChaos stops its fleet and its stack itself (also when it throws); keep the logs of a failure.
  if (!failed && !process.env['WARDEN_KEEP_TEST_LOGS']) rmSync(dir, { recursive: true, force: true });
});

describe('chaos, short form', () => {
  it('every invariant holds under kill -9, SIGSTOP, Redis data loss, joins and leaves', { timeout: 170_000 }, async (t) => {
    const printed: string[] = [];
    let report: ChaosReport;
    try {
      report = await runChaos({
        jobs: 300,
        supervisors: 3,
        spreadS: 12,
        kills: 1,
        pauses: 1,
        redisRestarts: 1,
        timeScale: 0.05,
        seed: 3,
        leaseTtlMs: 2000,
        deadlineS: 120,
        workDir: dir,
        print: (line) => printed.push(line),
      });
    } catch (error) {
      failed = true;
      throw new Error(`chaos run failed (logs in ${dir}):\n${printed.join('\n')}`, { cause: error });
    }
    t.diagnostic(JSON.stringify(report));
    const context = `\n${JSON.stringify(report)}\n${printed.join('\n')}\n${ownershipDiagnostics()}\nlogs in ${dir}`;
    failed = true;
    // The faults really happened.
    assert.equal(report.kills, 1, context);
    assert.equal(report.pauses, 1, context);
    assert.equal(report.redis_restarts, 1, context);
    assert.ok(report.jobs > 200, `distinct jobs ${report.jobs}${context}`);
    // The invariants.
    assert.equal(report.lost, 0, `lost${context}`);
    assert.equal(report.duplicate_writebacks, 0, `duplicate_writebacks${context}`);
    assert.equal(report.stale_writebacks, 0, `stale_writebacks${context}`);
    assert.equal(report.illegal_transitions, 0, `illegal_transitions${context}`);
    assert.ok(report.duplicate_llm_calls <= report.inflight_at_faults, `duplicate_llm_calls ${report.duplicate_llm_calls} > inflight_at_faults ${report.inflight_at_faults}${context}`);
    assert.ok(report.recovery_p99_ms < 30_000, `recovery_p99_ms ${report.recovery_p99_ms}${context}`);
    // Every job ended in a terminal state the simulators agree with: one write-back per success.
    assert.equal(report.succeeded + report.superseded + report.failed_or_dead, report.jobs, `terminal states${context}`);
    failed = false;
  });
});
