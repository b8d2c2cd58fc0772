import { join } from 'node:path';
import type { LifelineProcess } from '../infra/lifeline-spawn.ts';
import type { SimLlm } from '../sim-llm/index.ts';
import { spawnSupervisor } from '../demo/spawn-supervisor.ts';

/** Signals a member; one that already exited (it crashed on its own) is simply gone. */
function signal(member: FleetMember, name: NodeJS.Signals): void {
  try {
    process.kill(member.process.pid, name);
  } catch {
    // ESRCH: nothing to signal.
  }
}

export interface FleetMember {
  slot: number;
  id: string;
  process: LifelineProcess;
  paused: boolean;
}

export interface FaultRecord {
  kind: 'kill' | 'pause' | 'resume' | 'redis_restart' | 'join' | 'leave' | 'restart';
  member?: string;
  at: number;
  /** LLM calls the simulator had in flight from this member at that moment. */
  llmInFlight: number;
}

/**
 * A fleet of `warden supervisor` processes on one machine, each a real OS process: kill -9,
 * SIGSTOP/SIGCONT and SIGTERM are the real signals. Every restart is a new member id, as a
 * replaced EC2 instance would be.
 */
export class Fleet {
  readonly members = new Map<number, FleetMember>();
  readonly faults: FaultRecord[] = [];
  private generation = 0;

  constructor(
    private readonly configPath: string,
    private readonly logDir: string,
    private readonly llm: SimLlm,
  ) {}

  async start(slot: number): Promise<FleetMember> {
    this.generation += 1;
    const id = `chaos-s${slot}-g${this.generation}`;
    const process = await spawnSupervisor(this.configPath, join(this.logDir, `${id}.log`), id);
    const member = { slot, id, process, paused: false };
    this.members.set(slot, member);
    return member;
  }

  private record(kind: FaultRecord['kind'], member?: FleetMember): void {
    this.faults.push({ kind, ...(member ? { member: member.id } : {}), at: Date.now(), llmInFlight: member ? this.llm.inFlightBy(member.id) : 0 });
  }

  kill(slot: number): void {
    const member = this.members.get(slot);
    if (!member) return;
    this.record('kill', member);
    member.process.kill();
    this.members.delete(slot);
  }

  pause(slot: number): void {
    const member = this.members.get(slot);
    if (!member || member.paused) return;
    this.record('pause', member);
    signal(member, 'SIGSTOP');
    member.paused = true;
  }

  resume(slot: number): void {
    const member = this.members.get(slot);
    if (!member || !member.paused) return;
    signal(member, 'SIGCONT');
    member.paused = false;
    this.faults.push({ kind: 'resume', member: member.id, at: Date.now(), llmInFlight: 0 });
  }

  /** A graceful leave (scale-in): SIGTERM, then wait for the drain to finish. */
  async leave(slot: number, timeoutMs: number): Promise<void> {
    const member = this.members.get(slot);
    if (!member) return;
    this.faults.push({ kind: 'leave', member: member.id, at: Date.now(), llmInFlight: 0 });
    try {
      process.kill(member.process.pid, 'SIGTERM');
    } catch {
      // Already gone (it crashed on its own): nothing to drain.
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([member.process.exited, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    member.process.kill();
    this.members.delete(slot);
  }

  noteRedisRestart(): void {
    this.faults.push({ kind: 'redis_restart', at: Date.now(), llmInFlight: 0 });
  }

  noteJoin(member: FleetMember): void {
    this.faults.push({ kind: 'join', member: member.id, at: Date.now(), llmInFlight: 0 });
  }

  async stopAll(timeoutMs: number): Promise<void> {
    for (const member of this.members.values()) if (member.paused) signal(member, 'SIGCONT');
    await Promise.all([...this.members.keys()].map((slot) => this.leave(slot, timeoutMs)));
  }
}
