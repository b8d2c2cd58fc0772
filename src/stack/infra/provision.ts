import { CreateBucketCommand, type BucketLocationConstraint, type S3Client } from '@aws-sdk/client-s3';
import type { AwsClients } from '../../runtime/aws/aws-clients.ts';
import { ensureQueues, type QueueUrls } from './provision-queues.ts';
import { ensureAccessTable } from '../../runtime/access-log/access-table.ts';
import { ensureTable, ensureTimeToLive, fencesTableSchema, jobsTableSchema, JOBS_TTL_ATTRIBUTE } from './provision-tables.ts';
import { resolveResourceNames, type ResourceNames } from './resource-names.ts';

export type { QueueUrls } from './provision-queues.ts';

function errorName(error: unknown): string {
  return (error as { name?: string } | null)?.name ?? '';
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  const region = await s3.config.region();
  try {
    await s3.send(new CreateBucketCommand({
      Bucket: bucket,
      // us-east-1 is the one region that refuses an explicit LocationConstraint.
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
    }));
  } catch (error) {
    // Ours already (AWS outside us-east-1 says so; us-east-1 and fauxqs just answer 200).
    // BucketAlreadyExists means another account owns the name: that must fail.
    if (errorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
  }
}

/**
 * Creates what warden needs in AWS (or the emulators) unless it exists: the jobs table (GSIs
 * by_partition and by_tenant, TTL on expires_at where supported), the fences table, one SQS
 * queue per partition with a RedrivePolicy to the shared permanent DLQ, the transient DLQ, and
 * the payload bucket. Safe to run again and from several instances at once. Tables are ACTIVE
 * when it returns. Returns the queue URLs.
 */
export async function provisionResources(clients: Pick<AwsClients, 'ddb' | 'sqs' | 's3'>, names: ResourceNames): Promise<QueueUrls> {
  const resolved = resolveResourceNames(names);
  const [queues] = await Promise.all([
    ensureQueues(clients.sqs, resolved),
    ensureTable(clients.ddb, jobsTableSchema(resolved.jobsTable)).then(() =>
      ensureTimeToLive(clients.ddb, resolved.jobsTable, JOBS_TTL_ATTRIBUTE),
    ),
    ensureTable(clients.ddb, fencesTableSchema(resolved.fencesTable)),
    ensureAccessTable(clients.ddb, resolved.accessTable),
    ensureBucket(clients.s3, resolved.bucket),
  ]);
  return queues;
}
