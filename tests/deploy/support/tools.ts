import { spawnSync } from 'node:child_process';

/**
 * Debian tools the deploy tests run. They are installed by scripts/ensure-tools.sh (CI calls it
 * before `npm test`); a test never installs anything itself, it fails saying what is missing.
 */
export function requireTool(command: string, debianPackage: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(`${command} is not installed (Debian package ${debianPackage}); run: sh scripts/ensure-tools.sh`);
  }
  return path;
}
