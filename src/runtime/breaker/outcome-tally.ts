import type { BreakerOutcomes, BreakerState } from './breaker-store.ts';

/** What one flush carries, and how to answer every `record()` counted in it. */
export interface TallyBatch {
  readonly outcomes: BreakerOutcomes;
  settle(state: BreakerState): void;
}

/**
 * Outcomes of provider calls counted in this process until one store call carries them all.
 * Counts, not a list: the rolling window only sums them. Every caller counted in one flush shares
 * one promise of the state after it.
 */
export class OutcomeTally {
  private successes = 0;
  private failures = 0;
  private waiting: { promise: Promise<BreakerState>; resolve: (state: BreakerState) => void } | undefined;

  get empty(): boolean {
    return this.successes === 0 && this.failures === 0;
  }

  add(success: boolean): Promise<BreakerState> {
    if (success) this.successes += 1;
    else this.failures += 1;
    if (this.waiting === undefined) {
      let resolve!: (state: BreakerState) => void;
      const promise = new Promise<BreakerState>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  take(): TallyBatch | undefined {
    const waiting = this.waiting;
    if (this.empty || waiting === undefined) return undefined;
    const outcomes = { successes: this.successes, failures: this.failures };
    this.successes = 0;
    this.failures = 0;
    this.waiting = undefined;
    return { outcomes, settle: (state) => waiting.resolve(state) };
  }
}
