/**
 * CPU and memory of processes read from /proc (Linux): what a process really spent, counted by
 * the kernel, whatever language or runtime it is. utime+stime cover every thread of the process
 * (worker threads included) and are in clock ticks (USER_HZ = 100 on Linux, so 10 ms resolution).
 */
import { readFileSync } from 'node:fs';

const TICK_US = 10_000; // 1 / USER_HZ; getconf CLK_TCK is 100 on every mainstream Linux kernel

/** CPU time (user + system) of one process, in microseconds; undefined when it is gone. */
export function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) are at index 11 and 12 after the name.
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

/** CPU time of one thread (tid; the main thread's tid is the pid), in microseconds. */
export function threadCpuUs(pid: number, tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes; undefined when the process is gone. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine (all cores), in microseconds. */
export function machineCpuUs(): { busyUs: number; totalUs: number; cores: number } {
  const stat = readFileSync('/proc/stat', 'utf8');
  const lines = stat.split('\n');
  const cpu = (lines[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
  const busy = user + nice + system + irq + softirq + steal;
  const cores = lines.filter((line) => /^cpu\d+ /.test(line)).length;
  return { busyUs: busy * TICK_US, totalUs: (busy + idle + iowait) * TICK_US, cores };
}

/** A set of named processes whose CPU is read at two moments; delta per name. */
export class CpuLedger {
  private readonly start = new Map<string, number>();
  private machineStart = machineCpuUs();
  private startedAt = performance.now();

  constructor(private readonly pids: Map<string, number>) {}

  mark(): void {
    this.start.clear();
    for (const [name, pid] of this.pids) this.start.set(name, processCpuUs(pid) ?? 0);
    this.machineStart = machineCpuUs();
    this.startedAt = performance.now();
  }

  /** CPU µs each process used since mark(), the machine's busy share and the wall time. */
  read(): { perProcessUs: Record<string, number>; machineBusyUs: number; machineCapacityUs: number; wallMs: number; cores: number } {
    const perProcessUs: Record<string, number> = {};
    for (const [name, pid] of this.pids) perProcessUs[name] = (processCpuUs(pid) ?? this.start.get(name) ?? 0) - (this.start.get(name) ?? 0);
    const machine = machineCpuUs();
    return {
      perProcessUs,
      machineBusyUs: machine.busyUs - this.machineStart.busyUs,
      machineCapacityUs: machine.totalUs - this.machineStart.totalUs,
      wallMs: performance.now() - this.startedAt,
      cores: machine.cores,
    };
  }
}

/** 1-, 5- and 15-minute load averages: other work on the machine shows here. */
export function loadAverage(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
  } catch {
    return [];
  }
}
