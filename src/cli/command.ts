import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ValidationError } from '../errors.ts';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

/** Parses argv for one command; `--help` prints its usage. Unknown flags are refused by name. */
export async function runCommand(command: Command, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`warden ${command.name}: ${(error as Error).message}\n\n${command.usage}\n`);
    return 2;
  }
  if (parsed.values['help']) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (error) {
    if (error instanceof ValidationError) {
      process.stderr.write(`warden ${command.name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

export function numberOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ValidationError('invalid_option', `--${name} must be a number, got '${String(raw)}'`);
  return value;
}

export function requireString(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new ValidationError('invalid_option', `--${name} is required`);
  return value;
}
