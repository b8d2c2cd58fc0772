import { loadConfig } from '../../config/load-config.ts';
import { fleetStatus, formatFleetStatus } from '../../ops/fleet-status.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { requireString, type Command } from '../command.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: 'print members, partition owners and tokens, queue depths and work in flight',
  usage: `Usage: warden status --config <file> [--json]

Prints the live members, each partition's owner and fencing token, its lease time left, its
queue depth (visible and in flight), its unfinished jobs, and the dead-letter depths.

Options:
  --config <file>   warden config (JSON)
  --json            one JSON object instead of the table
  -h, --help        show this help`,
  options: { config: { type: 'string' }, json: { type: 'boolean' } },
  async run(values) {
    const runtime = await createRuntime(loadConfig(requireString(values, 'config')));
    try {
      const status = await fleetStatus(runtime);
      process.stdout.write(`${values['json'] ? JSON.stringify(status) : formatFleetStatus(status)}\n`);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
