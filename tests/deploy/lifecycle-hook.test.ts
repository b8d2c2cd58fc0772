import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImdsClient, ImdsError } from '../../src/runtime/aws/imds-client.ts';
import { AutoScalingLifecycleActions } from '../../src/runtime/aws/lifecycle-actions.ts';
import { drainAndComplete, LifecycleHookWatcher, waitForTermination } from '../../src/runtime/aws/lifecycle-hook.ts';
import { startAutoScalingStandIn, type AutoScalingStandIn } from './support/autoscaling-stand-in.ts';
import { startImdsStandIn, type ImdsStandIn } from './support/imds-stand-in.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const GROUP = 'warden-workers';
const HOOK = 'warden-drain';
const INSTANCE = 'i-0123456789abcdef0';
const STATE_PATH = 'autoscaling/target-lifecycle-state';

describe('IMDSv2 client against a local IMDS stand-in', () => {
  let imds: ImdsStandIn;
  before(async () => {
    imds = await startImdsStandIn({ 'instance-id': INSTANCE, 'placement/region': 'eu-west-1', [STATE_PATH]: 'InService' });
  });
  after(() => imds.close());

  test('reads with a session token, one PUT shared by concurrent reads', async () => {
    const client = new ImdsClient({ endpoint: imds.url });
    imds.requests.length = 0;
    const [id, region, state] = await Promise.all([client.instanceId(), client.region(), client.targetLifecycleState()]);
    assert.equal(id, INSTANCE);
    assert.equal(region, 'eu-west-1');
    assert.equal(state, 'InService');
    assert.equal(imds.requests.filter((r) => r.method === 'PUT').length, 1);
    assert.ok(imds.requests.filter((r) => r.method === 'GET').every((r) => r.tokenOk), 'no IMDSv1 (token-less) GET');
  });

  test('a revoked token is replaced once; a missing path is undefined', async () => {
    const client = new ImdsClient({ endpoint: imds.url });
    await client.instanceId();
    imds.revokeTokens();
    assert.equal(await client.instanceId(), INSTANCE);
    assert.equal(await client.get('/latest/meta-data/nothing-here'), undefined);
  });

  test('a token is refreshed before it expires', async () => {
    let now = 0;
    const client = new ImdsClient({ endpoint: imds.url, tokenTtlS: 120, now: () => now });
    imds.requests.length = 0;
    await client.instanceId();
    now += 30_000;
    await client.instanceId();
    now += 40_000; // 70 s of a 120 s token: past the refresh point (ttl - 60 s)
    await client.instanceId();
    assert.equal(imds.requests.filter((r) => r.method === 'PUT').length, 2);
  });

  test('outside an Auto Scaling group the target state is undefined', async () => {
    imds.metadata.delete(STATE_PATH);
    try {
      assert.equal(await new ImdsClient({ endpoint: imds.url }).targetLifecycleState(), undefined);
    } finally {
      imds.metadata.set(STATE_PATH, 'InService');
    }
  });

  test('an unreachable IMDS fails fast with a retryable coded error', async () => {
    const client = new ImdsClient({ endpoint: 'http://127.0.0.1:9', timeoutMs: 500 });
    await assert.rejects(client.instanceId(), (error: unknown) => error instanceof ImdsError && error.retryable && error.code === 'imds_unavailable');
  });

  test('options are checked at construction, naming the field', () => {
    assert.throws(() => new ImdsClient({ endpoint: 'https://169.254.169.254' }), /endpoint/);
    assert.throws(() => new ImdsClient({ tokenTtlS: 0 }), /tokenTtlS/);
    assert.throws(() => new ImdsClient({ timeoutMs: -1 }), /timeoutMs/);
  });
});

describe('scale-in lifecycle hook against IMDS and Auto Scaling stand-ins', () => {
  let imds: ImdsStandIn;
  let asg: AutoScalingStandIn;
  let actions: AutoScalingLifecycleActions;
  before(async () => {
    imds = await startImdsStandIn({ 'instance-id': INSTANCE, [STATE_PATH]: 'InService' });
    asg = await startAutoScalingStandIn();
    actions = new AutoScalingLifecycleActions({
      region: 'us-east-1',
      endpoint: asg.url,
      credentials: { accessKeyId: 'stand-in', secretAccessKey: 'stand-in' },
      autoScalingGroupName: GROUP,
      lifecycleHookName: HOOK,
      instanceId: INSTANCE,
      maxAttempts: 1,
    });
  });
  after(async () => {
    actions.close();
    await asg.close();
    await imds.close();
  });

  test('waitForTermination ignores InService and IMDS hiccups, resolves on Terminated', async () => {
    imds.metadata.set(STATE_PATH, 'InService');
    const abort = new AbortController();
    const client = new ImdsClient({ endpoint: imds.url });
    const warnings: unknown[] = [];
    const log = { info() {}, error() {}, warn: (o: unknown) => warnings.push(o) } as never;
    const waiting = waitForTermination({ imds: client, pollIntervalMs: 10, signal: abort.signal, log });
    await sleep(50);
    imds.failNext(3);
    await sleep(80);
    imds.metadata.set(STATE_PATH, 'Terminated');
    assert.equal(await waiting, 'Terminated');
    assert.equal(warnings.length, 1, 'one warning per distinct failure, not per poll');
  });

  test('waitForTermination stops when aborted', async () => {
    imds.metadata.set(STATE_PATH, 'InService');
    const abort = new AbortController();
    const waiting = waitForTermination({ imds: new ImdsClient({ endpoint: imds.url }), pollIntervalMs: 10, signal: abort.signal });
    setTimeout(() => abort.abort(), 30);
    await assert.rejects(waiting);
  });

  test('a long drain heartbeats the action, then completes it with CONTINUE', async () => {
    asg.calls.length = 0;
    asg.pendingAction(INSTANCE, GROUP, HOOK);
    let drains = 0;
    const outcome = await drainAndComplete({
      actions,
      heartbeatIntervalMs: 40,
      drain: async () => {
        drains += 1;
        await sleep(230);
      },
    });
    assert.equal(drains, 1);
    assert.equal(outcome.drained, true);
    assert.equal(outcome.completion, 'completed');
    const heartbeats = asg.calls.filter((c) => c.action === 'RecordLifecycleActionHeartbeat');
    // At least one heartbeat during the drain (how many depends on the machine's load, not on us).
    assert.ok(heartbeats.length >= 1, `expected heartbeats during a 230 ms drain at 40 ms, got ${heartbeats.length}`);
    const last = asg.calls.at(-1);
    assert.equal(last?.action, 'CompleteLifecycleAction');
    assert.deepEqual(
      { group: last?.params['AutoScalingGroupName'], hook: last?.params['LifecycleHookName'], instance: last?.params['InstanceId'], result: last?.params['LifecycleActionResult'] },
      { group: GROUP, hook: HOOK, instance: INSTANCE, result: 'CONTINUE' },
    );
    assert.ok(heartbeats.every((c) => c.at <= last!.at), 'no heartbeat after completion');
  });

  test('a failed drain still completes with CONTINUE; a failing completion is retried', async () => {
    asg.calls.length = 0;
    asg.pendingAction(INSTANCE, GROUP, HOOK);
    asg.failNext('CompleteLifecycleAction', 2);
    const outcome = await drainAndComplete({
      actions,
      heartbeatIntervalMs: 1000,
      completeBackoffMs: 5,
      drain: async () => {
        throw new Error('actor would not stop');
      },
    });
    assert.equal(outcome.drained, false);
    assert.match(String(outcome.drainError), /actor would not stop/);
    assert.equal(outcome.completion, 'completed');
    assert.equal(asg.calls.filter((c) => c.action === 'CompleteLifecycleAction').length, 3);
  });

  test('no pending action (hook timed out, or completed already) is not an error', async () => {
    asg.calls.length = 0;
    const outcome = await drainAndComplete({ actions, drain: async () => undefined, completeBackoffMs: 5 });
    assert.equal(outcome.completion, 'no_active_action');
    assert.equal(asg.calls.length, 1);
  });

  test('the watcher drains once on Terminated and reports the outcome', async () => {
    asg.calls.length = 0;
    imds.metadata.set(STATE_PATH, 'InService');
    let drains = 0;
    const watcher = new LifecycleHookWatcher({
      imds: new ImdsClient({ endpoint: imds.url }),
      actions,
      pollIntervalMs: 10,
      heartbeatIntervalMs: 1000,
      drain: async () => {
        drains += 1;
      },
    });
    watcher.start();
    watcher.start();
    await sleep(40);
    assert.equal(watcher.terminating, false);
    assert.equal(drains, 0);
    asg.pendingAction(INSTANCE, GROUP, HOOK);
    imds.metadata.set(STATE_PATH, 'Terminated');
    const outcome = await watcher.finished;
    assert.equal(watcher.terminating, true);
    assert.equal(drains, 1);
    assert.equal(outcome?.completion, 'completed');
    assert.equal(await watcher.close(), outcome);
  });

  test('a watcher closed before any termination drains nothing', async () => {
    imds.metadata.set(STATE_PATH, 'InService');
    let drains = 0;
    const watcher = new LifecycleHookWatcher({
      imds: new ImdsClient({ endpoint: imds.url }),
      actions,
      pollIntervalMs: 10,
      drain: async () => {
        drains += 1;
      },
    });
    watcher.start();
    await sleep(30);
    assert.equal(await watcher.close(), undefined);
    assert.equal(await watcher.close(), undefined);
    assert.equal(drains, 0);
  });

  test('names are checked at construction', async () => {
    assert.throws(
      () => new AutoScalingLifecycleActions({ region: 'us-east-1', autoScalingGroupName: 'a b', lifecycleHookName: HOOK, instanceId: INSTANCE }),
      /autoScalingGroupName/,
    );
    await assert.rejects(drainAndComplete({ actions, drain: async () => undefined, heartbeatIntervalMs: 0 }), /heartbeatIntervalMs/);
  });
});
