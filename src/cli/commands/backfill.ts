import { ValidationError } from '../../errors.ts';
import { requireString, type Command } from '../command.ts';
import { say, withControls } from '../with-controls.ts';

export const backfillCommand: Command = {
  name: 'backfill',
  summary: 'pause or resume bulk (backfill) jobs, per prompt version or all',
  usage: `Usage: warden backfill <pause|resume> --config <file> --prompt-version <v|all> [--reason <text>]

Paused bulk jobs stay queued (their messages come back every 30 s to look); interactive jobs
are never paused. The control is kept in DynamoDB and read by every supervisor each round.

Options:
  --config <file>            warden config (JSON)
  --prompt-version <v|all>   which backfill
  --reason <text>            recorded with the control
  -h, --help                 show this help`,
  options: { config: { type: 'string' }, 'prompt-version': { type: 'string' }, reason: { type: 'string' } },
  run: (values, positionals) => {
    const action = positionals[0];
    if (action !== 'pause' && action !== 'resume') throw new ValidationError('invalid_option', `expected pause or resume, got '${action ?? ''}'`);
    const version = requireString(values, 'prompt-version');
    return withControls(values, async (_runtime, controls) => {
      if (action === 'pause') await controls.pauseBackfill(version, (values['reason'] as string | undefined) ?? '');
      else await controls.resumeBackfill(version);
      say(`backfill ${version} ${action === 'pause' ? 'paused' : 'resumed'}`);
      return 0;
    });
  },
};
