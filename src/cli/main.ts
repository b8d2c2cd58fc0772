import { runCommand, type Command } from './command.ts';
import { apiCommand } from './commands/api.ts';
import { chaosCommand } from './commands/chaos.ts';
import { backfillCommand } from './commands/backfill.ts';
import { drainCommand } from './commands/drain.ts';
import { resumeCommand } from './commands/resume.ts';
import { jobCommand } from './commands/job.ts';
import { purgeCommand } from './commands/purge.ts';
import { selfCheckCommand } from './commands/self-check.ts';
import { demoCommand } from './commands/demo.ts';
import { dlqCommand } from './commands/dlq.ts';
import { stackCommand } from './commands/stack.ts';
import { statusCommand } from './commands/status.ts';
import { supervisorCommand } from './commands/supervisor.ts';

const COMMANDS: Command[] = [stackCommand, supervisorCommand, apiCommand, demoCommand, dlqCommand, chaosCommand, statusCommand, drainCommand, resumeCommand, backfillCommand, selfCheckCommand, jobCommand, purgeCommand];

function usage(): string {
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(12)} ${command.summary}`);
  return `warden: exactly-once AI content generation on at-least-once infrastructure

Usage: warden <command> [options]   (warden <command> --help for its options)

Commands:
${lines.join('\n')}
`;
}

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
  process.exitCode = name === undefined ? 2 : 0;
} else {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`warden: unknown command '${name}'\n\n${usage()}`);
    process.exitCode = 2;
  } else {
    const code = await runCommand(command, rest);
    // Long-running commands have closed what they own; a stray keep-alive socket or timer in a
    // dependency must not keep a drained process from exiting (systemd would SIGKILL it).
    process.stdout.write('', () => process.exit(code));
  }
}
