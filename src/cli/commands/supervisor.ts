import { loadConfig } from '../../config/load-config.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { defaultMemberId } from '../../supervisor/member-id.ts';
import { Supervisor } from '../../supervisor/supervisor.ts';
import { watchScaleIn } from '../lifecycle-wiring.ts';
import { onShutdownSignals } from '../shutdown.ts';
import { requireString, type Command } from '../command.ts';

export const supervisorCommand: Command = {
  name: 'supervisor',
  summary: 'run the supervisor of this instance: partition actors, drain on SIGTERM',
  usage: `Usage: warden supervisor --config <file> [--id <member-id>]

Runs one supervisor process: it owns the partitions, runs one actor per partition and drains
on SIGTERM (a second SIGTERM stops at once; nothing is lost either way).

Options:
  --config <file>   warden config (JSON); WARDEN_* environment variables override it
  --id <id>         member id (default: host-pid-random)
  -h, --help        show this help`,
  options: { config: { type: 'string' }, id: { type: 'string' } },
  async run(values) {
    const config = loadConfig(requireString(values, 'config'));
    const id = typeof values['id'] === 'string' ? values['id'] : defaultMemberId();
    const runtime = await createRuntime(config, { member: id });
    const supervisor = new Supervisor(runtime, { id });
    await supervisor.start();
    const drain = () => supervisor.stop(config.supervisor.drainTimeoutMs);
    const scaleIn = await watchScaleIn({ env: process.env, region: config.aws.region, log: runtime.log, drain });
    // Either way out drains: SIGTERM from systemd, or Auto Scaling's termination lifecycle hook.
    await Promise.race([
      onShutdownSignals(runtime.log, async (hard) => {
        await supervisor.stop(hard ? 0 : config.supervisor.drainTimeoutMs);
      }),
      scaleIn ? scaleIn.finished.then(() => undefined) : new Promise<void>(() => undefined),
    ]);
    await scaleIn?.close();
    await runtime.close();
    return 0;
  },
};
