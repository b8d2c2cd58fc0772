import { userInfo } from 'node:os';
import { ValidationError } from '../../errors.ts';
import { loadConfig } from '../../config/load-config.ts';
import { jobView } from '../../ingest/http/job-view.ts';
import { openResult } from '../../runtime/crypto/job-sealing.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { requireString, type Command } from '../command.ts';

export const jobCommand: Command = {
  name: 'job',
  summary: "show one job: status and audit trail; --access its payload access log; --result its result",
  usage: `Usage: warden job <id> --config <file> [--access] [--result]

Prints the job's status, attempts and audit trail (no payloads). --access adds the append-only
log of every read of the job's payloads (who, tenant, purpose, time). --result decrypts and prints
the result, and that read is itself logged (purpose operator_inspect).

Options:
  --config <file>   warden config (JSON)
  --access          show the payload access log
  --result          show the result text (logged as an operator read)
  -h, --help        show this help`,
  options: { config: { type: 'string' }, access: { type: 'boolean' }, result: { type: 'boolean' } },
  async run(values, positionals) {
    const id = positionals[0];
    if (!id || !/^[0-9a-f]{64}$/.test(id)) throw new ValidationError('invalid_option', 'give the job id (64 hex characters)');
    const runtime = await createRuntime(loadConfig(requireString(values, 'config')));
    try {
      const job = await runtime.checkpoints.get(id);
      if (!job) throw new ValidationError('not_found', `no job ${id}`);
      const out: Record<string, unknown> = { ...jobView(job), audit: job.audit };
      if (values['result']) {
        const who = `operator:${userInfo().username}`;
        await runtime.accessLog.append({ who, tenant: job.tenant, jobId: id, purpose: 'operator_inspect', at: new Date() });
        out['result'] = (await openResult(runtime.cipher, job)) ?? null;
      }
      if (values['access']) out['access'] = await runtime.accessLog.listForJob(id);
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
