import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RuntimeContext } from '../runtime/runtime-context.ts';

export interface PartitionStatus {
  partition: number;
  owner: string | null;
  token: number | null;
  lease_ttl_ms: number | null;
  queue_visible: number;
  queue_in_flight: number;
  unfinished_jobs: number;
}

export interface FleetStatus {
  members: string[];
  partitions: PartitionStatus[];
  dead_letters: { transient: number; permanent: number };
}

async function depth(runtime: RuntimeContext, url: string): Promise<{ visible: number; inFlight: number }> {
  const out = await runtime.aws.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

async function unfinished(runtime: RuntimeContext, partition: number): Promise<number> {
  const out = await runtime.aws.doc.send(
    new QueryCommand({
      TableName: runtime.config.tables.jobs,
      IndexName: 'by_partition',
      KeyConditionExpression: 'gsi_partition = :p',
      ExpressionAttributeValues: { ':p': String(partition) },
      Select: 'COUNT',
    }),
  );
  return out.Count ?? 0;
}

/** What an operator needs at a glance: members, owners and tokens, queue depths, work in flight. */
export async function fleetStatus(runtime: RuntimeContext): Promise<FleetStatus> {
  const all = Array.from({ length: runtime.config.partitions }, (_, p) => p);
  const [members, holders] = await Promise.all([runtime.members().live(), runtime.leases().listAll(all)]);
  const partitions = await Promise.all(
    all.map(async (partition) => {
      const holder = holders.get(partition);
      const [queue, open] = await Promise.all([depth(runtime, runtime.queueUrl(partition)), unfinished(runtime, partition)]);
      return {
        partition,
        owner: holder?.owner ?? null,
        token: holder?.token ?? null,
        lease_ttl_ms: holder?.ttlMs ?? null,
        queue_visible: queue.visible,
        queue_in_flight: queue.inFlight,
        unfinished_jobs: open,
      };
    }),
  );
  const [transient, permanent] = await Promise.all([depth(runtime, runtime.deadLetterUrls.transient), depth(runtime, runtime.deadLetterUrls.permanent)]);
  return { members, partitions, dead_letters: { transient: transient.visible + transient.inFlight, permanent: permanent.visible + permanent.inFlight } };
}

export function formatFleetStatus(status: FleetStatus): string {
  const lines = [`members (${status.members.length}): ${status.members.join(', ') || '(none)'}`, ''];
  lines.push('partition  owner                              token  lease ms  queued  in flight  unfinished');
  for (const p of status.partitions) {
    lines.push(
      `${String(p.partition).padStart(9)}  ${(p.owner ?? '-').padEnd(33)}  ${String(p.token ?? '-').padStart(5)}  ${String(p.lease_ttl_ms ?? '-').padStart(8)}  ${String(p.queue_visible).padStart(6)}  ${String(p.queue_in_flight).padStart(9)}  ${String(p.unfinished_jobs).padStart(10)}`,
    );
  }
  lines.push('', `dead letters: transient ${status.dead_letters.transient}, permanent ${status.dead_letters.permanent}`);
  return lines.join('\n');
}
