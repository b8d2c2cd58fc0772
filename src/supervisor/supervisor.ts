import type { Logger } from 'pino';
import { JobRunner } from '../actors/job-runner.ts';
import type { Ownership } from '../actors/ownership.ts';
import { PartitionActor } from '../actors/partition-actor.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { defaultMemberId } from './member-id.ts';
import { RestartBudget } from './restart-budget.ts';

export interface SupervisorOptions {
  /** Stable member id; defaults to host-pid-random. */
  id?: string;
  /** Partitions to own. */
  partitions: number[];
  restart?: { maxRestarts: number; windowMs: number; baseDelayMs: number; maxDelayMs: number };
}

interface ActorSlot {
  actor: PartitionActor;
  abort: AbortController;
  budget: RestartBudget;
}

/**
 * One per instance. Owns partition actors, restarts one that crashes with backoff, gives a
 * partition up when its actor keeps crashing, and drains everything on stop.
 */
export class Supervisor {
  readonly id: string;
  private readonly log: Logger;
  private readonly slots = new Map<number, ActorSlot>();
  private readonly runner: JobRunner;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly runtime: RuntimeContext,
    private readonly options: SupervisorOptions,
  ) {
    this.id = options.id ?? defaultMemberId();
    this.log = runtime.log.child({ member: this.id });
    const { config } = runtime;
    this.runner = new JobRunner({
      checkpoints: runtime.checkpoints,
      payloads: runtime.payloads,
      records: runtime.records(),
      llm: runtime.llm(),
      templates: runtime.templates,
      prepare: (task, signal) => runtime.cpu().prepare(task, signal),
      deadLetters: runtime.deadLetters,
      metrics: runtime.metrics,
      clock: runtime.clock,
      policy: {
        maxAttempts: config.llm.maxAttempts,
        backoffBaseMs: config.llm.backoffBaseMs,
        backoffMaxMs: config.llm.backoffMaxMs,
        llmTimeoutMs: config.llm.timeoutMs,
        maxConflictRetries: config.recordStore.maxConflictRetries,
      },
    });
  }

  async start(): Promise<void> {
    await Promise.all(this.options.partitions.map((partition) => this.startActor(partition)));
    this.log.info({ partitions: this.options.partitions }, 'supervisor started');
  }

  get owned(): Array<{ partition: number; inFlight: number }> {
    return [...this.slots.entries()].map(([partition, slot]) => ({ partition, inFlight: slot.actor.inFlightCount }));
  }

  private async startActor(partition: number, budget?: RestartBudget): Promise<void> {
    const restart = this.options.restart ?? { maxRestarts: 5, windowMs: 60_000, baseDelayMs: 500, maxDelayMs: 30_000 };
    const abort = new AbortController();
    const token = await this.runtime.minter.mint(partition, this.id);
    const ownership: Ownership = { partition, owner: this.id, token, signal: abort.signal, isValid: () => !abort.signal.aborted };
    const { config } = this.runtime;
    const actor = new PartitionActor(
      ownership,
      this.runtime.queueFor(partition),
      this.runner,
      {
        checkpoints: this.runtime.checkpoints,
        clock: this.runtime.clock,
        metrics: this.runtime.metrics,
        partitions: config.partitions,
        promptExists: (version) => this.runtime.templates.has(version),
      },
      this.runtime.deadLetters,
      this.runtime.metrics,
      this.log.child({ partition, token }),
      { concurrency: config.actor.concurrency, waitTimeS: config.queues.waitTimeS, visibilityTimeoutS: config.queues.visibilityTimeoutS },
    );
    const slot: ActorSlot = { actor, abort, budget: budget ?? new RestartBudget(restart.maxRestarts, restart.windowMs) };
    this.slots.set(partition, slot);
    actor.start().catch((error) => this.onCrash(partition, slot, error, restart));
  }

  private onCrash(partition: number, slot: ActorSlot, error: unknown, restart: NonNullable<SupervisorOptions['restart']>): void {
    if (this.stopping || this.slots.get(partition) !== slot) return;
    this.slots.delete(partition);
    void slot.actor.stop(0);
    if (!slot.budget.allow(Date.now())) {
      this.log.error({ partition, err: error }, 'partition actor keeps crashing; giving the partition up');
      return;
    }
    const delay = Math.min(restart.maxDelayMs, restart.baseDelayMs * 2 ** (slot.budget.used - 1));
    this.log.warn({ partition, err: error, delay_ms: delay }, 'partition actor crashed; restarting');
    setTimeout(() => {
      if (!this.stopping) void this.startActor(partition, slot.budget).catch((e) => this.onCrash(partition, slot, e, restart));
    }, delay).unref();
  }

  /** Drains every actor within `budgetMs`, then releases them. Safe to call twice. */
  stop(budgetMs: number): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ budget_ms: budgetMs }, 'supervisor draining');
      await Promise.all([...this.slots.values()].map((slot) => slot.actor.stop(budgetMs)));
      for (const slot of this.slots.values()) slot.abort.abort();
      this.slots.clear();
      this.log.info('supervisor drained');
    })();
    return this.stopping;
  }
}
