import { runChaos } from '../../stack/chaos/run-chaos.ts';
import { numberOption, type Command } from '../command.ts';

export const chaosCommand: Command = {
  name: 'chaos',
  summary: 'run the chaos scenario: a fleet under kill -9, SIGSTOP, Redis data loss, joins and leaves',
  usage: `Usage: warden chaos [options]

Starts the local stack and a fleet of supervisor processes, submits a workload (a fifth of it
duplicates, records edited mid-flight), and meanwhile kills supervisors with SIGKILL (then
restarts them), pauses one with SIGSTOP past its lease TTL (a zombie owner), restarts Redis with
its data gone, lets a member join and another leave. Counts are taken at the simulated LLM and
record store and read from the jobs table's audit trails. The last line is one JSON object.
Exits 0 when every invariant held.

Options:
  --jobs <n>            submissions (default 2000)
  --supervisors <n>     initial fleet size (default 3)
  --spread <s>          seconds over which work and faults are spread (default 40)
  --kills <n>           kill -9 faults (default 3)
  --pauses <n>          SIGSTOP faults (default 1)
  --redis-restarts <n>  Redis restarts with data loss (default 1)
  --time-scale <x>      simulated LLM latency factor (default 0.1)
  --lease-ttl <ms>      partition lease TTL (default 5000)
  --seed <n>            workload and fault seed (default 7)
  --deadline <s>        give up waiting after this many seconds (default 300)
  --work-dir <dir>      config, logs and metrics (default .warden/chaos)
  -h, --help            show this help`,
  options: {
    jobs: { type: 'string' },
    supervisors: { type: 'string' },
    spread: { type: 'string' },
    kills: { type: 'string' },
    pauses: { type: 'string' },
    'redis-restarts': { type: 'string' },
    'time-scale': { type: 'string' },
    'lease-ttl': { type: 'string' },
    seed: { type: 'string' },
    deadline: { type: 'string' },
    'work-dir': { type: 'string' },
  },
  async run(values) {
    const print = (line: string) => process.stdout.write(`${line}\n`);
    const report = await runChaos({
      jobs: numberOption(values, 'jobs', 2000),
      supervisors: numberOption(values, 'supervisors', 3),
      spreadS: numberOption(values, 'spread', 40),
      kills: numberOption(values, 'kills', 3),
      pauses: numberOption(values, 'pauses', 1),
      redisRestarts: numberOption(values, 'redis-restarts', 1),
      timeScale: numberOption(values, 'time-scale', 0.1),
      leaseTtlMs: numberOption(values, 'lease-ttl', 5000),
      seed: numberOption(values, 'seed', 7),
      deadlineS: numberOption(values, 'deadline', 300),
      workDir: (values['work-dir'] as string | undefined) ?? '.warden/chaos',
      print,
    });
    const held =
      report.lost === 0 &&
      report.duplicate_writebacks === 0 &&
      report.stale_writebacks === 0 &&
      report.illegal_transitions === 0 &&
      report.duplicate_llm_calls <= report.inflight_at_faults &&
      report.recovery_p99_ms < 30_000;
    print(held ? 'chaos: every invariant held' : 'CHAOS: AN INVARIANT BROKE (see the JSON)');
    print(JSON.stringify(report));
    return held ? 0 : 1;
  },
};
