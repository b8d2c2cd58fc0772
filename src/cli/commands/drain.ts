import { hostname } from 'node:os';
import { numberOption, type Command } from '../command.ts';
import { say, withControls } from '../with-controls.ts';

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
    withControls(values, async (runtime, controls) => {
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

