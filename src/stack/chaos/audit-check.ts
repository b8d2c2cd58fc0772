import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobRecord } from '../../jobs/job-record.ts';
import { isTerminal } from '../../jobs/job-states.ts';
import { TRANSITIONS } from '../../jobs/transition-table.ts';
import type { FaultRecord } from './fleet.ts';

/** Every job item of the table (a full scan: fine for the few thousand jobs of a chaos run). */
export async function scanJobs(doc: DynamoDBDocumentClient, table: string): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
    for (const item of out.Items ?? []) jobs.push({ ...(item as JobRecord), id: item['pk'] as string });
    start = out.LastEvaluatedKey;
  } while (start);
  return jobs;
}

/**
 * Counts audit lines that break the lifecycle: a transition the table does not hold, a line
 * that does not start where the previous one ended, or a fencing token going backwards.
 */
export function illegalTransitions(job: JobRecord): number {
  let illegal = 0;
  let previous = job.audit[0];
  for (const line of job.audit.slice(1)) {
    const rule = line.event === 'submit' ? undefined : TRANSITIONS[line.from]?.[line.event];
    if (!rule || rule.next !== line.to) illegal += 1;
    if (previous && line.from !== previous.to) illegal += 1;
    if (previous && line.token >= 0 && previous.token >= 0 && line.token < previous.token) illegal += 1;
    previous = line;
  }
  return illegal;
}

/**
 * Recovery after each kill or pause: for every job the victim had touched and left unfinished at
 * that moment, the time until another member moved it on (read from the audit trail).
 */
export function recoveryTimes(jobs: JobRecord[], faults: FaultRecord[]): number[] {
  const times: number[] = [];
  for (const fault of faults.filter((f) => f.kind === 'kill' || f.kind === 'pause')) {
    for (const job of jobs) {
      const before = job.audit.filter((line) => Date.parse(line.at) <= fault.at);
      const last = before.at(-1);
      if (!last || last.actor !== fault.member || isTerminal(last.to)) continue;
      const next = job.audit.find((line) => Date.parse(line.at) > fault.at && line.actor !== fault.member);
      if (next) times.push(Date.parse(next.at) - fault.at);
    }
  }
  return times.sort((a, b) => a - b);
}

/**
 * LLM calls a killed or paused member had under way, read from the audit trail: its jobs that
 * were `running` (the call started, its result not yet memoized) at the moment of the fault. This
 * includes calls the provider had already answered but whose answer the dead process never
 * stored: those are lost with the process too, and the next owner pays for them again.
 */
export function runningAtFault(jobs: JobRecord[], fault: FaultRecord): number {
  let running = 0;
  for (const job of jobs) {
    const last = job.audit.filter((line) => Date.parse(line.at) <= fault.at).at(-1);
    if (last && last.actor === fault.member && last.to === 'running') running += 1;
  }
  return running;
}
