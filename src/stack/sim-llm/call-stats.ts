/**
 * Counts taken at the simulated LLM: the ground truth for "pay once". Cumulative
 * counters reset on demand; in-flight tracking is live state and survives a reset.
 */

export type CallOutcome = number | 'timeout' | 'aborted';
export type InjectedFault = '429' | '5xx' | 'timeout' | 'refusal' | 'slowBody' | 'forced';

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export interface SimLlmStats {
  /** Every POST to /v1/chat/completions, valid or not. */
  calls: number;
  /** 200 answers with content fully delivered. */
  completed: number;
  /** 200 answers with a refusal fully delivered. */
  refusals: number;
  inFlight: number;
  /** Status code, or "timeout" (hung, closed unanswered) or "aborted" (caller left first). */
  byStatus: Record<string, number>;
  distinctPrompts: number;
  /** Sum over prompt digests of (valid calls - 1), whatever each call's outcome. */
  duplicateCalls: number;
  duplicateDigests: string[];
  /** Sum over prompt digests of (completions delivered - 1): the same answer paid and received twice. */
  duplicateCompletions: number;
  /** Valid calls whose prompt had no parseable `<inputs>` block (no stale check possible later). */
  promptsWithoutInputs: number;
  injected: Record<InjectedFault, number>;
  /** Wall time from request to last byte, of completed and refused calls. */
  latenciesMs: LatencySummary;
}

const MAX_LISTED_DIGESTS = 20;
const LATENCY_WINDOW = 10000;

const emptyInjected = (): Record<InjectedFault, number> =>
  ({ '429': 0, '5xx': 0, timeout: 0, refusal: 0, slowBody: 0, forced: 0 });

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export class CallStats {
  private calls = 0;
  private completed = 0;
  private refusals = 0;
  private inFlight = 0;
  private byStatus = new Map<string, number>();
  private perDigest = new Map<string, number>();
  private completionsPerDigest = new Map<string, number>();
  private duplicateDigests: string[] = [];
  private duplicateCompletions = 0;
  private withoutInputs = 0;
  private injected = emptyInjected();
  // A ring keeps memory flat during long chaos runs.
  private latencies: number[] = [];
  private latencyNext = 0;
  private readonly liveDigests = new Map<string, number>();
  /** Calls in flight per caller (the `x-warden-member` header): what a killed process had under way. */
  private readonly liveByCaller = new Map<string, number>();

  begin(): void {
    this.calls++;
    this.inFlight++;
  }

  /** A call with a valid body reached the handler: it counts toward duplicates. */
  attempt(digest: string, hasInputs: boolean, caller = 'anonymous'): void {
    this.liveByCaller.set(caller, (this.liveByCaller.get(caller) ?? 0) + 1);
    const n = (this.perDigest.get(digest) ?? 0) + 1;
    this.perDigest.set(digest, n);
    if (n === 2 && this.duplicateDigests.length < MAX_LISTED_DIGESTS) this.duplicateDigests.push(digest);
    if (!hasInputs) this.withoutInputs++;
    this.liveDigests.set(digest, (this.liveDigests.get(digest) ?? 0) + 1);
  }

  inject(kind: InjectedFault): void {
    this.injected[kind]++;
  }

  end(outcome: CallOutcome, digest: string | null, delivered: 'content' | 'refusal' | null, elapsedMs: number, caller = 'anonymous'): void {
    this.inFlight--;
    if (digest !== null) {
      const live = (this.liveByCaller.get(caller) ?? 1) - 1;
      if (live <= 0) this.liveByCaller.delete(caller);
      else this.liveByCaller.set(caller, live);
    }
    const key = String(outcome);
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
    if (digest !== null) {
      const live = (this.liveDigests.get(digest) ?? 1) - 1;
      if (live <= 0) this.liveDigests.delete(digest);
      else this.liveDigests.set(digest, live);
    }
    if (delivered === null) return;
    if (delivered === 'content') this.completed++;
    else this.refusals++;
    if (digest !== null) {
      const n = (this.completionsPerDigest.get(digest) ?? 0) + 1;
      this.completionsPerDigest.set(digest, n);
      if (n > 1) this.duplicateCompletions++;
    }
    if (this.latencies.length < LATENCY_WINDOW) this.latencies.push(elapsedMs);
    else this.latencies[this.latencyNext] = elapsedMs;
    this.latencyNext = (this.latencyNext + 1) % LATENCY_WINDOW;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  inFlightBy(caller: string): number {
    return this.liveByCaller.get(caller) ?? 0;
  }

  inFlightDigests(): Set<string> {
    return new Set(this.liveDigests.keys());
  }

  /** Valid calls seen so far for one prompt digest. */
  callsFor(digest: string): number {
    return this.perDigest.get(digest) ?? 0;
  }

  reset(): void {
    this.calls = 0;
    this.completed = 0;
    this.refusals = 0;
    this.byStatus.clear();
    this.perDigest.clear();
    this.completionsPerDigest.clear();
    this.duplicateDigests = [];
    this.duplicateCompletions = 0;
    this.withoutInputs = 0;
    this.injected = emptyInjected();
    this.latencies = [];
    this.latencyNext = 0;
  }

  snapshot(): SimLlmStats {
    let duplicateCalls = 0;
    for (const n of this.perDigest.values()) duplicateCalls += n - 1;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    return {
      calls: this.calls,
      completed: this.completed,
      refusals: this.refusals,
      inFlight: this.inFlight,
      byStatus: Object.fromEntries(this.byStatus),
      distinctPrompts: this.perDigest.size,
      duplicateCalls,
      duplicateDigests: [...this.duplicateDigests],
      duplicateCompletions: this.duplicateCompletions,
      promptsWithoutInputs: this.withoutInputs,
      injected: { ...this.injected },
      latenciesMs: {
        count: sorted.length,
        p50: quantile(sorted, 0.5),
        p95: quantile(sorted, 0.95),
        max: sorted[sorted.length - 1] ?? 0,
        mean: sorted.length === 0 ? 0 : sum / sorted.length,
      },
    };
  }
}
