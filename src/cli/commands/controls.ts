import { hostname } from 'node:os';
import { ValidationError } from '../../errors.ts';
import { loadConfig } from '../../config/load-config.ts';
import { FleetControls } from '../../ops/fleet-controls.ts';
import { createRuntime, type RuntimeContext } from '../../runtime/runtime-context.ts';
import { numberOption, requireString, type Command } from '../command.ts';

async function withRuntime(values: Record<string, unknown>, work: (runtime: RuntimeContext, controls: FleetControls) => Promise<number>): Promise<number> {
  const runtime = await createRuntime(loadConfig(requireString(values, 'config')));
  try {
    return await work(runtime, new FleetControls(runtime.aws.doc, runtime.config.tables.fences));
  } finally {
    await runtime.close();
  }
}

const say = (line: string) => process.stdout.write(`${line}\n`);

export const drainCommand: Command = {
  name: 'drain',
  summary: "drain this host's supervisors: hand every partition to other members, keep running",
  usage: `Usage: warden drain --config <file> [--timeout <s>] [--reason <text>] [--host <name>]

Marks this host drained (an operator control kept in DynamoDB, so it survives a Redis
failover). Its supervisors finish or checkpoint their in-flight jobs, release their leases and
leave the fleet, but keep running until 'warden resume'. Waits until the host holds no
partition; exits 1 if that takes longer than --timeout.

Options:
  --config <file>   warden config (JSON)
  --timeout <s>     how long to wait for the hand-off (default 120)
  --reason <text>   recorded with the control
  --host <name>     the host to drain (default: this one)
  -h, --help        show this help`,
  options: { config: { type: 'string' }, timeout: { type: 'string' }, reason: { type: 'string' }, host: { type: 'string' } },
  run: (values) =>
    withRuntime(values, async (runtime, controls) => {
      const host = (values['host'] as string | undefined) ?? hostname();
      await controls.drainHost(host, (values['reason'] as string | undefined) ?? '');
      const deadline = Date.now() + numberOption(values, 'timeout', 120) * 1000;
      const all = Array.from({ length: runtime.config.partitions }, (_, p) => p);
      for (;;) {
        const held = [...(await runtime.leases().listAll(all)).entries()].filter(([, holder]) => holder.owner.startsWith(`${host}-`));
        if (held.length === 0) {
          say(`host ${host} drained: it holds no partition`);
          return 0;
        }
        if (Date.now() > deadline) {
          say(`host ${host} still holds partitions ${held.map(([p]) => p).join(', ')} after the timeout`);
          return 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }),
};

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'undo a drain: the host rejoins the fleet and takes its fair share again',
  usage: `Usage: warden resume --config <file> [--reason <text>] [--host <name>]

Options:
  --config <file>   warden config (JSON)
  --reason <text>   noted in the output
  --host <name>     the host to resume (default: this one)
  -h, --help        show this help`,
  options: { config: { type: 'string' }, reason: { type: 'string' }, host: { type: 'string' } },
  run: (values) =>
    withRuntime(values, async (_runtime, controls) => {
      const host = (values['host'] as string | undefined) ?? hostname();
      await controls.resumeHost(host);
      say(`host ${host} resumed${values['reason'] ? ` (${String(values['reason'])})` : ''}`);
      return 0;
    }),
};

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'pause or resume bulk (backfill) jobs, per prompt version or all',
  usage: `Usage: warden backfill <pause|resume> --config <file> --prompt-version <v|all> [--reason <text>]

Paused bulk jobs stay queued (their messages come back every 30 s to look); interactive jobs
are never paused. The control is kept in DynamoDB and read by every supervisor each round.

Options:
  --config <file>            warden config (JSON)
  --prompt-version <v|all>   which backfill
  --reason <text>            recorded with the control
  -h, --help                 show this help`,
  options: { config: { type: 'string' }, 'prompt-version': { type: 'string' }, reason: { type: 'string' } },
  run: (values, positionals) => {
    const action = positionals[0];
    if (action !== 'pause' && action !== 'resume') throw new ValidationError('invalid_option', `expected pause or resume, got '${action ?? ''}'`);
    const version = requireString(values, 'prompt-version');
    return withRuntime(values, async (_runtime, controls) => {
      if (action === 'pause') await controls.pauseBackfill(version, (values['reason'] as string | undefined) ?? '');
      else await controls.resumeBackfill(version);
      say(`backfill ${version} ${action === 'pause' ? 'paused' : 'resumed'}`);
      return 0;
    });
  },
};
