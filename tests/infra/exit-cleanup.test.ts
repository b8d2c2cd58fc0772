import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const FIXTURE = fileURLToPath(new URL('./fixtures/hold-infra.ts', import.meta.url));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(25);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/** Starts the fixture, kills it with `signal`, and returns what it had spawned and how it ended. */
async function killFixture(mode: 'in-process' | 'child', signal: NodeJS.Signals) {
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), FIXTURE, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let line = '';
  for await (const chunk of child.stdout) {
    line += String(chunk);
    if (line.includes('\n')) break;
  }
  const { pids } = JSON.parse(line) as { pids: number[] };
  assert.ok(pids.every(isAlive), 'fixture servers should be up before the kill');
  child.kill(signal);
  const [code, signalCode] = await exited;
  return { pids, code, signalCode, survivors: await waitGone(pids, 3_000) };
}

describe('servers die with the process that started them', () => {
  it('on SIGTERM: exit cleanup kills redis-server, and the process still dies by the signal', async () => {
    const result = await killFixture('in-process', 'SIGTERM');
    assert.equal(result.pids.length, 1);
    assert.equal(result.signalCode, 'SIGTERM');
    assert.deepEqual(result.survivors, []);
  });

  it('on SIGKILL (no handler runs): the lifeline and IPC disconnect kill redis and the emulator children', async () => {
    const result = await killFixture('child', 'SIGKILL');
    assert.equal(result.pids.length, 3);
    assert.equal(result.signalCode, 'SIGKILL');
    assert.deepEqual(result.survivors, []);
  });
});
