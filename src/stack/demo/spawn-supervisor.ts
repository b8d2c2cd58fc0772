import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnWithLifeline, type LifelineProcess } from '../infra/lifeline-spawn.ts';

const WARDEN_BIN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

/**
 * Starts `warden supervisor` as its own process, as systemd would, logging to `logFile`. It is
 * killed if this process dies first, so a demo or chaos run never leaves a supervisor behind.
 */
export async function spawnSupervisor(configPath: string, logFile: string, id: string): Promise<LifelineProcess> {
  closeSync(openSync(logFile, 'a'));
  const command = `exec "${process.execPath}" "${WARDEN_BIN}" supervisor --config "${configPath}" --id "${id}" >>"${logFile}" 2>&1`;
  return spawnWithLifeline('/bin/sh', ['-c', command], { cwd: process.cwd() });
}
