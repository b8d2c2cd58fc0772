import { loadConfig } from '../../config/load-config.ts';
import { PAYLOAD_RETENTION_DAYS, purgePayloads } from '../../ops/purge-payloads.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { numberOption, requireString, type Command } from '../command.ts';

export const purgeCommand: Command = {
  name: 'purge',
  summary: 'remove raw payloads past their 30-day retention (for stores without lifecycle rules)',
  usage: `Usage: warden purge --config <file> [--older-than-days <n>] [--dry-run]

Deletes the prompt-context objects of finished jobs older than the cutoff and removes their
sealed inputs and memoized results from the job items; status, times and audit trails stay
queryable (job history lives 180 days, by the table's TTL). Production buckets do this with a
lifecycle rule; this command is for stores without one.

Options:
  --config <file>           warden config (JSON)
  --older-than-days <n>     cutoff in days (default ${PAYLOAD_RETENTION_DAYS})
  --dry-run                 count, change nothing
  -h, --help                show this help`,
  options: { config: { type: 'string' }, 'older-than-days': { type: 'string' }, 'dry-run': { type: 'boolean' } },
  async run(values) {
    const runtime = await createRuntime(loadConfig(requireString(values, 'config')));
    try {
      const days = numberOption(values, 'older-than-days', PAYLOAD_RETENTION_DAYS);
      const report = await purgePayloads(
        { doc: runtime.aws.doc, s3: runtime.aws.s3, jobsTable: runtime.config.tables.jobs, bucket: runtime.config.bucket },
        new Date(Date.now() - days * 86_400_000),
        values['dry-run'] === true,
      );
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
