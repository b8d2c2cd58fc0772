import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { makeAwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { startInfra, type Infra } from '../../src/stack/infra/start-infra.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function checkServing(infra: Infra): Promise<void> {
  const clients = makeAwsClients({
    region: infra.region,
    endpoints: { dynamodb: infra.dynamodbEndpoint, sqs: infra.sqsEndpoint, s3: infra.s3Endpoint },
  });
  const redis = new Redis(infra.redis.url, { retryStrategy: () => null });
  try {
    assert.equal(await redis.ping(), 'PONG');
    const { TableNames } = await clients.ddb.send(new ListTablesCommand({}));
    assert.deepEqual(TableNames?.sort(), ['warden-access', 'warden-fences', 'warden-jobs']);
    const { QueueUrls } = await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'warden-p' }));
    assert.equal(QueueUrls?.length, infra.queues.partitions.length + 2);
  } finally {
    redis.disconnect();
    clients.destroy();
  }
}

async function checkStopped(infra: Infra, pids: number[]): Promise<void> {
  const ports = [infra.redis.port, infra.dynalite.port, infra.fauxqs.port];
  await Promise.all([infra.stop(), infra.stop()]);
  for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} still alive after stop()`);
  for (const port of ports) assert.equal(await refusesConnections(port), true, `port ${port} still open after stop()`);
}

describe('startInfra', () => {
  it('starts, provisions and stops everything in-process', async () => {
    const infra = await startInfra({ partitions: 4 });
    try {
      assert.equal(infra.region, 'us-east-1');
      assert.equal(infra.sqsEndpoint, infra.s3Endpoint);
      assert.equal(infra.dynalite.pid, process.pid);
      assert.equal(infra.queues.partitions.length, 4);
      assert.equal(infra.names.jobsTable, 'warden-jobs');
      assert.ok(infra.startupMs > 0);
      await checkServing(infra);
    } finally {
      await checkStopped(infra, [infra.redis.pid]);
    }
  });

  it('runs the emulators as child processes and kills them on stop', async () => {
    const infra = await startInfra({ partitions: 2, mode: 'child', names: { queuePrefix: 'warden-p' } });
    try {
      assert.equal(infra.dynalite.mode, 'child');
      assert.equal(infra.fauxqs.mode, 'child');
      assert.notEqual(infra.dynalite.pid, process.pid);
      assert.equal(isAlive(infra.fauxqs.pid), true);
      await checkServing(infra);
    } finally {
      await checkStopped(infra, [infra.redis.pid, infra.dynalite.pid, infra.fauxqs.pid]);
    }
  });

  it('validates options before starting anything', async () => {
    await assert.rejects(startInfra({ partitions: 0 }), /names\.partitions/);
    await assert.rejects(startInfra({ partitions: 1, mode: 'docker' as 'child' }), /options\.mode/);
    await assert.rejects(startInfra({ partitions: 1, mode: { fauxqs: 'x' as 'child' } }), /options\.mode\.fauxqs/);
  });
});
