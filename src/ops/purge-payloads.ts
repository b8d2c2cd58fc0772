import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobRecord } from '../jobs/job-record.ts';
import { TERMINAL_STATES } from '../jobs/job-states.ts';

export const PAYLOAD_RETENTION_DAYS = 30;

export interface PurgeDeps {
  doc: DynamoDBDocumentClient;
  s3: S3Client;
  jobsTable: string;
  bucket: string;
}

export interface PurgeReport {
  jobs_purged: number;
  objects_deleted: number;
  orphan_objects_deleted: number;
  dry_run: boolean;
}

/**
 * Raw payloads live 30 days, job history 180. For stores without lifecycle rules (the local
 * stack, or a bucket whose rule was lost) this removes what is older than the cutoff: the
 * context object in S3, and from the job item its sealed inputs, its context reference and its
 * memoized result. Status, times, attempts and the audit trail stay queryable. Only finished jobs
 * are touched, and every step can run twice.
 */
export async function purgePayloads(deps: PurgeDeps, olderThan: Date, dryRun: boolean): Promise<PurgeReport> {
  const cutoff = olderThan.toISOString();
  const report: PurgeReport = { jobs_purged: 0, objects_deleted: 0, orphan_objects_deleted: 0, dry_run: dryRun };
  const referenced = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const out = await deps.doc.send(
      new ScanCommand({
        TableName: deps.jobsTable,
        FilterExpression: 'created_at < :cutoff AND (attribute_exists(context_ref) OR attribute_exists(#result) OR attribute_exists(inputs_sealed))',
        ExpressionAttributeNames: { '#result': 'result' },
        ExpressionAttributeValues: { ':cutoff': cutoff },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of (out.Items ?? []) as Array<JobRecord & { pk: string }>) {
      if (!TERMINAL_STATES.has(item.state)) {
        if (item.context_ref) referenced.add(item.context_ref.key);
        continue;
      }
      report.jobs_purged += 1;
      if (dryRun) continue;
      if (item.context_ref) {
        await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: item.context_ref.key }));
        report.objects_deleted += 1;
      }
      await deps.doc.send(
        new UpdateCommand({
          TableName: deps.jobsTable,
          Key: { pk: item.pk },
          UpdateExpression: 'REMOVE context_ref, #result, inputs_sealed SET payloads_purged_at = :now',
          ExpressionAttributeNames: { '#result': 'result' },
          ExpressionAttributeValues: { ':now': new Date().toISOString() },
        }),
      );
    }
    start = out.LastEvaluatedKey;
  } while (start);
  report.orphan_objects_deleted = await purgeOrphans(deps, olderThan, referenced, dryRun);
  return report;
}

/** Objects past the cutoff that no unfinished job still needs (e.g. a refused conflicting payload). */
async function purgeOrphans(deps: PurgeDeps, olderThan: Date, keep: Set<string>, dryRun: boolean): Promise<number> {
  let deleted = 0;
  let token: string | undefined;
  do {
    const out = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: 'payloads/', ...(token ? { ContinuationToken: token } : {}) }));
    for (const object of out.Contents ?? []) {
      if (!object.Key || keep.has(object.Key) || !object.LastModified || object.LastModified >= olderThan) continue;
      if (!dryRun) await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: object.Key }));
      deleted += 1;
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return deleted;
}
