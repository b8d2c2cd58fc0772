import { formatReport, runDemo } from '../../stack/demo/run-demo.ts';
import { numberOption, type Command } from '../command.ts';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the demo workload on the local stack and print the exactly-once verdict',
  usage: `Usage: warden demo [--jobs <n>] [--time-scale <x>] [--partitions <n>] [--seed <n>]

Starts the local stack, one supervisor process and the ingest API, submits a workload (a fifth
of it duplicates, through the HTTP API and the SQS producer; some records edited mid-flight),
shows progress, and prints a summary whose last line is one JSON object counted at the
simulated LLM and record store. Exits 0 when exactly-once held, 1 otherwise.

Options:
  --jobs <n>          submissions, duplicates included (default 500)
  --time-scale <x>    simulated LLM latency factor (default 0.1: P50 400 ms, P95 2 s)
  --partitions <n>    partitions (default 4)
  --seed <n>          workload seed (default 42)
  --deadline <s>      give up after this many seconds (default 150)
  --work-dir <dir>    where config, logs and metrics go (default .warden/demo)
  -h, --help          show this help`,
  options: {
    jobs: { type: 'string' },
    'time-scale': { type: 'string' },
    partitions: { type: 'string' },
    seed: { type: 'string' },
    deadline: { type: 'string' },
    'work-dir': { type: 'string' },
  },
  async run(values) {
    const print = (line: string) => process.stdout.write(`${line}\n`);
    const report = await runDemo({
      total: numberOption(values, 'jobs', 500),
      timeScale: numberOption(values, 'time-scale', 0.1),
      partitions: numberOption(values, 'partitions', 4),
      seed: numberOption(values, 'seed', 42),
      deadlineMs: numberOption(values, 'deadline', 150) * 1000,
      workDir: (values['work-dir'] as string | undefined) ?? '.warden/demo',
      print,
    });
    print('\nwarden demo: summary');
    print(formatReport(report));
    const exact =
      report.duplicate_llm_calls === 0 &&
      report.duplicate_writebacks === 0 &&
      report.stale_writebacks === 0 &&
      report.unfinished === 0 &&
      report.succeeded + report.superseded + report.failed + report.dead_lettered === report.unique;
    print(exact ? 'exactly-once held: no duplicate LLM completion, no duplicate or stale write-back.' : 'EXACTLY-ONCE VIOLATED: see the counts above.');
    print(JSON.stringify(report));
    return exact ? 0 : 1;
  },
};
