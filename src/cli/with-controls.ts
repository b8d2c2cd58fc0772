import { loadConfig } from '../config/load-config.ts';
import { FleetControls } from '../ops/fleet-controls.ts';
import { createRuntime, type RuntimeContext } from '../runtime/runtime-context.ts';
import { requireString } from './command.ts';

/** Runs an operator-control command with a runtime and the fleet controls, then closes both. */
export async function withControls(values: Record<string, unknown>, work: (runtime: RuntimeContext, controls: FleetControls) => Promise<number>): Promise<number> {
  const runtime = await createRuntime(loadConfig(requireString(values, 'config')));
  try {
    return await work(runtime, new FleetControls(runtime.aws.doc, runtime.config.tables.fences));
  } finally {
    await runtime.close();
  }
}

export const say = (line: string) => process.stdout.write(`${line}\n`);
