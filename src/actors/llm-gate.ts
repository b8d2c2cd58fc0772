import type { Priority } from '../jobs/generation-request.ts';
import type { CircuitBreaker } from '../runtime/breaker/circuit-breaker.ts';
import type { LlmLimiter } from '../runtime/limiter/llm-limiter.ts';

export interface CallOutcome {
  /** Tokens the provider reported (0 when the call failed before using any). */
  tokens: number;
  /** A transient provider failure (timeout, 5xx, 429): it counts against the breaker. */
  transientFailure: boolean;
  /** The provider asked for patience (429 with retry-after): pause the bucket fleet-wide. */
  rateLimitedForMs?: number;
}

export interface GateTicket {
  /** Reports how the call went: reconciles the token bucket, feeds the breaker. Call once. */
  finish(outcome: CallOutcome): void;
}

/** What stands between a job and the provider: the breaker, then the global limiter. */
export interface LlmGate {
  /** Waits while the breaker is open and until the limiter admits the call. */
  admit(request: { tenant: string; priority: Priority; estimatedTokens: number; signal: AbortSignal }): Promise<GateTicket>;
}

/** No breaker, no limiter: for tests and single-tenant deployments that want none. */
export const openGate: LlmGate = {
  admit: async () => ({ finish: () => undefined }),
};

/** The production gate: a fleet-wide circuit breaker per provider, then the fleet-wide limiter. */
export class FleetLlmGate implements LlmGate {
  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly limiter: LlmLimiter,
    private readonly provider: string,
    private readonly model: string,
  ) {}

  async admit(request: { tenant: string; priority: Priority; estimatedTokens: number; signal: AbortSignal }): Promise<GateTicket> {
    await this.breaker.admit(request.signal);
    const admission = await this.limiter.acquire({
      provider: this.provider,
      model: this.model,
      tenant: request.tenant,
      priority: request.priority,
      estimatedTokens: request.estimatedTokens,
      signal: request.signal,
    });
    let finished = false;
    return {
      finish: (outcome) => {
        if (finished) return;
        finished = true;
        void admission.reconcile(outcome.tokens);
        void this.breaker.record(!outcome.transientFailure);
        if (outcome.rateLimitedForMs !== undefined) void this.limiter.pause(this.provider, this.model, outcome.rateLimitedForMs).catch(() => undefined);
      },
    };
  }
}
