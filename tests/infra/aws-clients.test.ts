import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeAwsClients } from '../../src/runtime/aws/aws-clients.ts';

describe('makeAwsClients', () => {
  it('points every client at its local endpoint with dummy credentials and path-style S3', async () => {
    const clients = makeAwsClients({
      region: 'us-east-1',
      endpoints: { dynamodb: 'http://127.0.0.1:1001', sqs: 'http://127.0.0.1:1002', s3: 'http://127.0.0.1:1003' },
    });
    try {
      const endpointOf = async (config: { endpoint?: () => Promise<{ hostname: string; port?: number }> }) => {
        const resolved = await config.endpoint?.();
        return `${resolved?.hostname}:${resolved?.port}`;
      };
      assert.equal(await endpointOf(clients.ddb.config), '127.0.0.1:1001');
      assert.equal(await endpointOf(clients.sqs.config), '127.0.0.1:1002');
      assert.equal(await endpointOf(clients.s3.config), '127.0.0.1:1003');
      assert.equal(clients.s3.config.forcePathStyle, true);
      assert.equal((await clients.ddb.config.credentials()).accessKeyId, 'warden-local');
      assert.equal(await clients.sqs.config.maxAttempts(), 3);
    } finally {
      clients.destroy();
      clients.destroy();
    }
  });

  it('leaves endpoints, credentials and addressing to the AWS defaults when none are given', async () => {
    const clients = makeAwsClients({ region: 'eu-west-1', maxAttempts: 5 });
    try {
      assert.equal(clients.ddb.config.endpoint, undefined);
      assert.equal(clients.sqs.config.endpoint, undefined);
      assert.equal(clients.s3.config.endpoint, undefined);
      assert.equal(clients.s3.config.forcePathStyle, false);
      assert.equal(await clients.s3.config.region(), 'eu-west-1');
      assert.equal(await clients.ddb.config.maxAttempts(), 5);
    } finally {
      clients.destroy();
    }
  });

  it('uses given credentials, also for local endpoints', async () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
    const clients = makeAwsClients({ region: 'us-east-1', endpoints: { sqs: 'http://127.0.0.1:1' }, credentials });
    try {
      assert.equal((await clients.sqs.config.credentials()).accessKeyId, 'AKIDEXAMPLE');
    } finally {
      clients.destroy();
    }
  });

  it('validates options, naming the field', () => {
    assert.throws(() => makeAwsClients({ region: '' }), /options\.region/);
    assert.throws(() => makeAwsClients({ region: 'us-east-1', endpoints: { sqs: 'localhost:4566' } }), /options\.endpoints\.sqs/);
    assert.throws(() => makeAwsClients({ region: 'us-east-1', maxAttempts: 0 }), /options\.maxAttempts/);
    assert.throws(() => makeAwsClients({ region: 'us-east-1', maxSockets: 1.5 }), /options\.maxSockets/);
  });
});
