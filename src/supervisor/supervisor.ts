import { hostname } from 'node:os';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { backfillPaused, FleetControls, type FleetControlState } from '../ops/fleet-controls.ts';
import { Generation } from '../actors/generation.ts';
import { JobRunner } from '../actors/job-runner.ts';
import type { Ownership } from '../actors/ownership.ts';
import { PartitionActor } from '../actors/partition-actor.ts';
import type { LeaseStore } from '../runtime/leases/lease-store.ts';
import { METRIC } from '../runtime/metrics.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { planFairShare } from './fair-share.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { defaultMemberId } from './member-id.ts';
import { Membership } from './membership.ts';
import { RecentMembers } from './recent-members.ts';
import { RestartBudget } from './restart-budget.ts';

const GAUGE_INTERVAL_MS = 60_000;

export interface SupervisorOptions {
  /** Member id, unique among live processes; defaults to host-pid-random. */
  id?: string;
  restart?: { maxRestarts: number; windowMs: number; baseDelayMs: number; maxDelayMs: number };
  /** How long a partition given up after repeated crashes is left for other members. */
  giveUpCooldownMs?: number;
  /** The host operators drain by name (`warden drain`); defaults to os.hostname(). */
  host?: string;
}

interface ActorSlot {
  actor: PartitionActor;
  ownership: Ownership;
  budget: RestartBudget;
  handingOff: boolean;
}

/**
 * One per instance. Joins the fleet, takes its fair share of partitions through fenced leases,
 * hands off the ones above its share by draining them first, restarts a crashing actor with
 * backoff (and gives its partition up past the restart intensity), and drains on stop.
 */
export class Supervisor {
  readonly id: string;
  private readonly log: Logger;
  private runner!: JobRunner;
  private readonly leases: LeaseStore;
  private readonly keeper: LeaseKeeper;
  private readonly membership: Membership;
  private readonly recent: RecentMembers;
  private readonly slots = new Map<number, ActorSlot>();
  private readonly givenUp = new Map<number, number>();
  /** When each unheld partition was first seen unheld (monotonic ms). */
  private readonly freeSince = new Map<number, number>();
  private readonly restart: NonNullable<SupervisorOptions['restart']>;
  private timer: NodeJS.Timeout | undefined;
  /** Monotonic time of the last fleet gauges (backlog, jobs in flight). */
  private gaugedAt = Number.NEGATIVE_INFINITY;
  private round: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly controls: FleetControls;
  private controlState: FleetControlState = { drainedHosts: new Map(), pausedBackfills: new Map() };
  private readonly host: string;
  /** True while an operator has drained this host: no partitions, not a member. */
  private drained = false;

  constructor(
    private readonly runtime: RuntimeContext,
    private readonly options: SupervisorOptions = {},
  ) {
    this.id = options.id ?? defaultMemberId();
    this.log = runtime.log.child({ member: this.id });
    this.restart = options.restart ?? { maxRestarts: 5, windowMs: 60_000, baseDelayMs: 500, maxDelayMs: 30_000 };
    const { config } = runtime;
    this.leases = runtime.leases();
    this.membership = new Membership(runtime.members(), { ttlMs: config.leases.memberTtlMs });
    this.recent = new RecentMembers(config.leases.memberTtlMs, runtime.clock);
    this.keeper = new LeaseKeeper({
      store: this.leases,
      ttlMs: config.leases.ttlMs,
      clock: runtime.clock,
      reacquire: (lease) => this.leases.acquire(lease.partition, this.id, config.leases.ttlMs),
      onLost: (lease, reason) => this.log.warn({ partition: lease.partition, token: lease.token, reason }, 'partition lease lost'),
      onError: (error) => this.log.warn({ err: error }, 'lease renewal failed'),
    });
    this.host = options.host ?? hostname();
    this.controls = new FleetControls(runtime.aws.doc, config.tables.fences);
  }

  async start(): Promise<void> {
    this.runner = await this.buildRunner();
    // Redis may be restarting while this process starts: wait for it rather than crash.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.membership.join(this.id);
        break;
      } catch (error) {
        if (attempt >= 30) throw error;
        this.log.warn({ err: error, attempt }, 'cannot join the fleet yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * attempt)));
      }
    }
    this.keeper.start();
    await this.rebalance();
    this.timer = setInterval(() => void this.rebalance(), this.runtime.config.leases.rebalanceIntervalMs);
    this.log.info({ partitions: this.ownedPartitions() }, 'supervisor started');
  }

  private async buildRunner(): Promise<JobRunner> {
    const { runtime } = this;
    const { config } = runtime;
    return new JobRunner({
      isBackfillPaused: (promptVersion) => backfillPaused(this.controlState, promptVersion),
      checkpoints: runtime.checkpoints,
      records: runtime.records(),
      cipher: runtime.cipher,
      accessLog: runtime.accessLog,
      member: this.id,
      generation: new Generation({
        cipher: runtime.cipher,
        accessLog: runtime.accessLog,
        member: this.id,
        payloads: runtime.payloads,
        templates: runtime.templates,
        prepare: (task, signal) => runtime.cpu().prepare(task, signal),
        check: (text, options, messages, signal) => runtime.cpu().check(text, options, messages, signal),
        gate: await runtime.gate(),
        llm: runtime.llm(),
        llmTimeoutMs: config.llm.timeoutMs,
        onInvalidOutput: (code) => {
          runtime.metrics.count(METRIC.invalidOutputs, 1, { Code: code });
          this.log.warn({ code }, 'LLM output refused by the data-quality gate');
        },
      }),
      deadLetters: runtime.deadLetters,
      metrics: runtime.metrics,
      clock: runtime.clock,
      policy: {
        maxAttempts: config.llm.maxAttempts,
        backoffBaseMs: config.llm.backoffBaseMs,
        backoffMaxMs: config.llm.backoffMaxMs,
        maxConflictRetries: config.recordStore.maxConflictRetries,
      },
    });
  }

  ownedPartitions(): number[] {
    return [...this.slots.keys()].sort((a, b) => a - b);
  }

  get owned(): Array<{ partition: number; token: number; inFlight: number }> {
    return [...this.slots.entries()].map(([partition, slot]) => ({ partition, token: slot.ownership.token, inFlight: slot.actor.inFlightCount }));
  }

  /** One membership heartbeat and fair-share round; rounds never overlap. */
  rebalance(): Promise<void> {
    this.round ??= this.rebalanceOnce()
      .catch((error) => this.log.warn({ err: error }, 'rebalance round failed'))
      .finally(() => (this.round = undefined));
    return this.round;
  }

  private async rebalanceOnce(): Promise<void> {
    if (this.stopping) return;
    if (!(await this.followControls())) return;
    await this.publishGauges();
    const partitions = this.runtime.config.partitions;
    const members = this.recent.observe(await this.membership.heartbeat());
    const holders = await this.leases.listAll(Array.from({ length: partitions }, (_, p) => p));
    const owners = new Map([...holders].map(([p, holder]) => [p, holder.owner]));
    // What this process holds counts as its own even when Redis has just forgotten it (a restart
    // without persistence): the keeper re-grants it at its next renewal. Without this, members
    // would swap partitions after a Redis data loss and pay twice for calls in flight.
    for (const [partition, slot] of this.slots) if (!owners.has(partition) && !slot.ownership.signal.aborted) owners.set(partition, this.id);
    const plan = planFairShare({ partitions, members, owners, me: this.id });
    for (const partition of plan.toRelease) void this.handOff(partition);
    const now = this.runtime.clock.monotonicMs();
    for (let p = 0; p < partitions; p += 1) {
      if (holders.has(p)) this.freeSince.delete(p);
      else if (!this.freeSince.has(p)) this.freeSince.set(p, now);
    }
    // Liveness over balance: a partition nobody has taken for two lease TTLs (its quota holder
    // is gone or gave it up) is rescued by whoever sees it first; fair share evens out later.
    const stranded = [...this.freeSince].filter(([, since]) => now - since >= 2 * this.runtime.config.leases.ttlMs).map(([p]) => p);
    for (const partition of [...plan.toAcquire, ...stranded]) {
      if (this.stopping || this.slots.has(partition) || (this.givenUp.get(partition) ?? 0) > now) continue;
      const lease = await this.leases.acquire(partition, this.id, this.runtime.config.leases.ttlMs);
      if (!lease) continue;
      const previous = holders.get(partition);
      if (previous && previous.owner !== this.id) this.runtime.metrics.count(METRIC.leaseTakeovers);
      const ownership = this.keeper.hold(lease);
      // A grant that took longer than its lease (a slow host, a stalled Redis) is already over.
      if (!ownership.isValid()) continue;
      this.log.info({ partition, token: lease.token, from: previous?.owner ?? null }, 'partition acquired');
      this.startActor(partition, ownership);
    }
  }

  /**
   * Once a minute: the fleet-wide backlog (every member publishes the same figure, read with
   * Maximum; the scaling policy divides it by the instances in service) and this member's jobs
   * in flight (Sum over members is the fleet).
   */
  private async publishGauges(): Promise<void> {
    const now = this.runtime.clock.monotonicMs();
    if (now - this.gaugedAt < GAUGE_INTERVAL_MS) return;
    this.gaugedAt = now;
    try {
      const depths = await Promise.all(
        Array.from({ length: this.runtime.config.partitions }, (_, p) =>
          this.runtime.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.runtime.queueUrl(p), AttributeNames: ['ApproximateNumberOfMessages'] })),
        ),
      );
      const backlog = depths.reduce((sum, out) => sum + Number(out.Attributes?.['ApproximateNumberOfMessages'] ?? 0), 0);
      this.runtime.metrics.gauge(METRIC.queueBacklog, backlog);
    } catch (error) {
      this.log.warn({ err: error }, 'could not sample the queue backlog');
    }
    this.runtime.metrics.gauge(METRIC.jobsInFlight, this.owned.reduce((sum, slot) => sum + slot.inFlight, 0));
  }

  /**
   * Reads the operator controls; false while this host is drained (hold nothing, count for
   * nothing). A control store that cannot be read keeps the last known controls.
   */
  private async followControls(): Promise<boolean> {
    try {
      this.controlState = await this.controls.read();
    } catch (error) {
      this.log.warn({ err: error }, 'could not read operator controls; keeping the last ones');
    }
    const reason = this.controlState.drainedHosts.get(this.host);
    if (reason !== undefined && !this.drained) {
      this.drained = true;
      this.log.info({ host: this.host, reason }, 'host drained by an operator: handing every partition off');
      await this.membership.leave().catch((error) => this.log.warn({ err: error }, 'leave failed'));
      await Promise.all(this.ownedPartitions().map((partition) => this.handOff(partition)));
    } else if (reason === undefined && this.drained) {
      this.drained = false;
      this.log.info({ host: this.host }, 'host resumed by an operator: rejoining the fleet');
      await this.membership.join(this.id);
    }
    return !this.drained;
  }

  private startActor(partition: number, ownership: Ownership, budget?: RestartBudget): void {
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
        cipher: this.runtime.cipher,
      },
      this.runtime.deadLetters,
      this.runtime.metrics,
      this.log.child({ partition }),
      { concurrency: config.actor.concurrency, ...(config.actor.bulkWaiting > 0 ? { bulkWaiting: config.actor.bulkWaiting } : {}), waitTimeS: config.queues.waitTimeS, visibilityTimeoutS: config.queues.visibilityTimeoutS },
    );
    const slot: ActorSlot = { actor, ownership, budget: budget ?? new RestartBudget(this.restart.maxRestarts, this.restart.windowMs), handingOff: false };
    this.slots.set(partition, slot);
    actor.start().then(
      () => {
        // The poll loop ends when the actor stops: on hand-off, drain, or lease loss.
        if (this.slots.get(partition) === slot && ownership.signal.aborted) this.slots.delete(partition);
      },
      (error) => this.onCrash(partition, slot, error),
    );
  }

  private onCrash(partition: number, slot: ActorSlot, error: unknown): void {
    if (this.stopping || this.slots.get(partition) !== slot) return;
    void slot.actor.stop(0);
    if (!slot.ownership.isValid()) {
      this.slots.delete(partition);
      return;
    }
    if (!slot.budget.allow(Date.now())) {
      this.log.error({ partition, err: error }, 'partition actor keeps crashing: giving the partition up for other members');
      this.givenUp.set(partition, this.runtime.clock.monotonicMs() + (this.options.giveUpCooldownMs ?? 300_000));
      this.slots.delete(partition);
      void this.keeper.release(partition);
      return;
    }
    const delay = Math.min(this.restart.maxDelayMs, this.restart.baseDelayMs * 2 ** (slot.budget.used - 1));
    this.log.warn({ partition, err: error, delay_ms: delay }, 'partition actor crashed; restarting');
    setTimeout(() => {
      if (!this.stopping && this.slots.get(partition) === slot && slot.ownership.isValid()) this.startActor(partition, slot.ownership, slot.budget);
    }, delay).unref();
  }

  /** Hands a partition above our share to another member: drain it, then release the lease. */
  private async handOff(partition: number): Promise<void> {
    const slot = this.slots.get(partition);
    if (!slot || slot.handingOff) return;
    slot.handingOff = true;
    this.log.info({ partition }, 'handing partition off');
    await slot.actor.stop(this.runtime.config.supervisor.handoffTimeoutMs);
    await this.keeper.release(partition);
    if (this.slots.get(partition) === slot) this.slots.delete(partition);
  }

  /** Drains every actor within `budgetMs`, releases every lease and leaves. Safe to call twice. */
  stop(budgetMs: number): Promise<void> {
    // A second, harder stop (a second SIGTERM) cuts the running drain short: nothing is lost,
    // every job is checkpointed and its message comes back to the next owner.
    if (this.stopping && budgetMs === 0) for (const slot of this.slots.values()) void slot.actor.stop(0);
    this.stopping ??= (async () => {
      this.log.info({ budget_ms: budgetMs, partitions: this.ownedPartitions() }, 'supervisor draining');
      const drainStarted = this.runtime.clock.monotonicMs();
      clearInterval(this.timer);
      await this.round?.catch(() => undefined);
      await Promise.all([...this.slots.values()].map((slot) => slot.actor.stop(budgetMs)));
      this.slots.clear();
      await this.keeper.close();
      await this.membership.leave().catch((error) => this.log.warn({ err: error }, 'leave failed'));
      this.runtime.metrics.timing(METRIC.drainDuration, this.runtime.clock.monotonicMs() - drainStarted);
      this.runtime.metrics.flush();
      this.log.info('supervisor drained');
    })();
    return this.stopping;
  }
}
