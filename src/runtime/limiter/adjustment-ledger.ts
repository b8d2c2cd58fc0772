import type { Adjustment } from './limiter-store.ts';

/** Amounts to add to a bucket's levels (negative: charged) and to one tenant's share of it. */
export interface Change {
  readonly requests: number;
  readonly tokens: number;
  readonly tenantRequests: number;
  readonly tenantTokens: number;
}

interface Entry {
  tenant: string;
  requests: number;
  tokens: number;
  tenantRequests: number;
  tenantTokens: number;
}

/** What one store call carries, and how to tell the callers that added to it. */
export interface LedgerBatch {
  readonly adjustments: Adjustment[];
  /** Settles the promises of `add()` once every change added so far has been carried. */
  done(): void;
}

/**
 * The adjustments of one bucket waiting for a store call, summed per tenant: a thousand
 * reconciles of one tenant become one entry. Summing is exact because the levels are only capped
 * when the sum lands (each delta was charged or owed at admission, so the order among them inside
 * one flush interval carries no meaning). Callers share one promise per flush, not one each.
 */
export class AdjustmentLedger {
  private readonly entries = new Map<string, Entry>();
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined;

  get size(): number {
    return this.entries.size;
  }

  /** Resolves once the change has been handed to the store (whether or not the call succeeded). */
  add(tenant: string, change: Change): Promise<void> {
    let entry = this.entries.get(tenant);
    if (entry === undefined) {
      entry = { tenant, requests: 0, tokens: 0, tenantRequests: 0, tenantTokens: 0 };
      this.entries.set(tenant, entry);
    }
    entry.requests += change.requests;
    entry.tokens += change.tokens;
    entry.tenantRequests += change.tenantRequests;
    entry.tenantTokens += change.tenantTokens;
    if (this.waiting === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  /** Takes up to `max` tenants' sums for one store call, or undefined when nothing waits. */
  take(max: number): LedgerBatch | undefined {
    if (this.entries.size === 0) return undefined;
    const adjustments: Adjustment[] = [];
    for (const [tenant, entry] of this.entries) {
      if (adjustments.length >= max) break;
      this.entries.delete(tenant);
      if (entry.requests !== 0 || entry.tokens !== 0 || entry.tenantRequests !== 0 || entry.tenantTokens !== 0) adjustments.push(entry);
    }
    // The promise belongs to everything added so far: it settles with the call that empties the ledger.
    const waiting = this.entries.size === 0 ? this.waiting : undefined;
    if (waiting !== undefined) this.waiting = undefined;
    return { adjustments, done: () => waiting?.resolve() };
  }
}
