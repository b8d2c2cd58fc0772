import { ValidationError } from '../../errors.ts';

/**
 * Where an emulator (dynalite, fauxqs) runs. 'in-process' starts fastest and is the default for
 * tests; 'child' gives it its own process, so on a 2-core machine its JSON/LevelDB work runs on the
 * other core instead of queueing behind the supervisor's event loop (see start-infra.ts).
 */
export type ServerMode = 'in-process' | 'child';

export const SERVER_MODES: readonly ServerMode[] = ['in-process', 'child'];

export function checkServerMode(value: unknown, field: string): ServerMode {
  if (value === undefined) return 'in-process';
  if (typeof value === 'string' && (SERVER_MODES as readonly string[]).includes(value)) return value as ServerMode;
  throw new ValidationError('infra_option_invalid', `${field} must be one of ${SERVER_MODES.join(', ')}, got ${JSON.stringify(value)}`);
}

export function checkOptionalPort(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 65_535) return value;
  throw new ValidationError('infra_option_invalid', `${field} must be an integer in 0..65535 (0 = any free port), got ${JSON.stringify(value)}`);
}
