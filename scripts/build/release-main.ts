/**
 * The `warden` entry of the release artifact: src/cli/main.ts without the development commands
 * (stack, demo, chaos), which import the local emulators (fauxqs, dynalite) that a production install
 * does not carry. Compiled to JavaScript by scripts/build/build-release.ts; no tsx at run time.
 *
 * `warden --self-check [...]` is `warden self-check [...]`: the AMI build and the SSM status
 * document call it that way. tests/deploy/release-entry.test.ts fails when src/cli/main.ts gains
 * a command that is neither here nor in DEV_ONLY_COMMANDS.
 */
import { runCommand, type Command } from '../../src/cli/command.ts';
import { apiCommand } from '../../src/cli/commands/api.ts';
import { backfillCommand } from '../../src/cli/commands/backfill.ts';
import { drainCommand } from '../../src/cli/commands/drain.ts';
import { resumeCommand } from '../../src/cli/commands/resume.ts';
import { dlqCommand } from '../../src/cli/commands/dlq.ts';
import { jobCommand } from '../../src/cli/commands/job.ts';
import { purgeCommand } from '../../src/cli/commands/purge.ts';
import { selfCheckCommand } from '../../src/cli/commands/self-check.ts';
import { statusCommand } from '../../src/cli/commands/status.ts';
import { supervisorCommand } from '../../src/cli/commands/supervisor.ts';

/** Commands of src/cli/main.ts left out of the release on purpose: they need dev-only packages. */
export const DEV_ONLY_COMMANDS = ['stack', 'demo', 'chaos'] as const;

export const RELEASE_COMMANDS: Command[] = [supervisorCommand, apiCommand, statusCommand, dlqCommand, selfCheckCommand, drainCommand, resumeCommand, backfillCommand, jobCommand, purgeCommand];

function usage(): string {
  const lines = RELEASE_COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`);
  return `warden: exactly-once AI content generation on at-least-once infrastructure (release build)

Usage: warden <command> [options]   (warden <command> --help for its options)
       warden --self-check [--config <file>] [--connectivity]

Commands:
${lines.join('\n')}
`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  const name = first === '--self-check' ? 'self-check' : first;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${process.env['WARDEN_RELEASE_VERSION'] ?? 'unknown'}\n`);
    return 0;
  }
  const command = RELEASE_COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    const dev = (DEV_ONLY_COMMANDS as readonly string[]).includes(name);
    process.stderr.write(dev ? `warden: '${name}' is a development command, not part of a release build\n` : `warden: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return runCommand(command, rest);
}
