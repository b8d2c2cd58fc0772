import { hostname } from 'node:os';
import type { Command } from '../command.ts';
import { say, withControls } from '../with-controls.ts';

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
    withControls(values, async (_runtime, controls) => {
      const host = (values['host'] as string | undefined) ?? hostname();
      await controls.resumeHost(host);
      say(`host ${host} resumed${values['reason'] ? ` (${String(values['reason'])})` : ''}`);
      return 0;
    }),
};

