import { checkAccessRecord, checkJobId, checkListLimit, type AccessEntry, type AccessLog, type AccessRecord } from './access-log.ts';

/** AccessLog in memory, for unit tests of the code that appends. Same ordering as the DynamoDB one. */
export class MemoryAccessLog implements AccessLog {
  private readonly byJob = new Map<string, AccessEntry[]>();

  async append(record: AccessRecord): Promise<void> {
    const entry = checkAccessRecord(record);
    const list = this.byJob.get(entry.jobId) ?? [];
    list.push(entry);
    // Stable: entries with the same time keep their append order.
    list.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    this.byJob.set(entry.jobId, list);
  }

  async listForJob(jobId: string, options: { limit?: number } = {}): Promise<AccessEntry[]> {
    checkJobId(jobId);
    const limit = checkListLimit(options.limit);
    return (this.byJob.get(jobId) ?? []).slice(0, limit).map((entry) => ({ ...entry }));
  }
}
