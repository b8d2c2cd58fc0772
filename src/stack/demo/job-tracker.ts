import { request } from 'undici';
import { TERMINAL_STATES, type JobState } from '../../jobs/job-states.ts';

export interface TrackedJob {
  id: string;
  firstSubmittedAt: number;
  status: JobState | 'unknown';
  finishedAt?: number;
}

/**
 * Follows jobs through the public status API, as a product surface would: polls the unfinished
 * ones with bounded concurrency and notes when each reached a terminal state.
 */
export class JobTracker {
  readonly jobs = new Map<string, TrackedJob>();

  constructor(private readonly apiUrl: string) {}

  noteSubmitted(id: string, at: number): void {
    if (!this.jobs.has(id)) this.jobs.set(id, { id, firstSubmittedAt: at, status: 'unknown' });
  }

  get unfinished(): TrackedJob[] {
    return [...this.jobs.values()].filter((job) => job.finishedAt === undefined);
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const job of this.jobs.values()) counts[job.status] = (counts[job.status] ?? 0) + 1;
    return counts;
  }

  async poll(concurrency = 16): Promise<void> {
    const queue = this.unfinished;
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const response = await request(`${this.apiUrl}/v1/jobs/${job.id}`);
        const body = (await response.body.json()) as { status?: JobState; finished_at?: string | null };
        if (response.statusCode !== 200 || !body.status) continue;
        job.status = body.status;
        if (TERMINAL_STATES.has(body.status)) job.finishedAt = body.finished_at ? Date.parse(body.finished_at) : Date.now();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}
