import { ValidationError } from '../../errors.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { DeadLetterKind } from '../../runtime/job-queue.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { readDeadLetters, redriveOne, type DeadLetterDeps, type RedriveOutcome } from '../../ops/dead-letters.ts';
import { numberOption, requireString, type Command } from '../command.ts';

function queueKind(value: unknown): DeadLetterKind {
  const kind = value ?? 'transient';
  if (kind !== 'transient' && kind !== 'permanent') throw new ValidationError('invalid_option', `--queue must be transient or permanent, got '${String(kind)}'`);
  return kind;
}

export const dlqCommand: Command = {
  name: 'dlq',
  summary: 'list, inspect and redrive the dead-letter queues',
  usage: `Usage: warden dlq <list|inspect|redrive> --config <file> [options]

  list      print dead letters: job id, reason code and message
  inspect   print one job's checkpoint and audit trail (--job <id>)
  redrive   send dead-lettered jobs round again, each exactly once; a memoized LLM
            result is kept, so a job that died in write-back does not pay again

Dead letters come in two queues: transient (retries exhausted; safe to replay) and permanent
(bad input or a permanent provider refusal; needs a person first).

Options:
  --config <file>         warden config (JSON)
  --queue <kind>          transient (default) or permanent
  --max <n>               at most this many letters (default 100)
  --job <id>              inspect: the job id
  --json                  machine-readable output
  -h, --help              show this help`,
  options: { config: { type: 'string' }, queue: { type: 'string' }, max: { type: 'string' }, job: { type: 'string' }, json: { type: 'boolean' } },
  async run(values, positionals) {
    const action = positionals[0];
    if (action !== 'list' && action !== 'inspect' && action !== 'redrive') {
      throw new ValidationError('invalid_option', `expected list, inspect or redrive, got '${action ?? ''}'`);
    }
    const config = loadConfig(requireString(values, 'config'));
    const runtime = await createRuntime(config);
    const print = (line: string) => process.stdout.write(`${line}\n`);
    try {
      if (action === 'inspect') {
        const job = await runtime.checkpoints.get(requireString(values, 'job'));
        if (!job) throw new ValidationError('not_found', `no job ${String(values['job'])}`);
        const { result: _result, ...visible } = job;
        print(JSON.stringify({ ...visible, has_result: job.result !== undefined }, null, 2));
        return 0;
      }
      const kind = queueKind(values['queue']);
      const deps: DeadLetterDeps = {
        sqs: runtime.aws.sqs,
        urls: runtime.deadLetterUrls,
        checkpoints: runtime.checkpoints,
        queueFor: (p) => runtime.queueFor(p),
        actor: `operator:${process.env['USER'] ?? 'unknown'}`,
      };
      const letters = await readDeadLetters(deps, kind, numberOption(values, 'max', 100), action === 'redrive' ? 60 : 0);
      if (action === 'list') {
        if (values['json']) print(JSON.stringify(letters.map((l) => ({ job_id: l.message?.job_id ?? null, reason: l.reason, receive_count: l.receiveCount }))));
        else for (const l of letters) print(`${l.message?.job_id ?? '(unreadable message)'}  ${l.reason.code}  ${l.reason.message}`);
        if (!values['json']) print(`${letters.length} dead letter(s) in the ${kind} queue`);
        return 0;
      }
      const outcomes: Record<RedriveOutcome, number> = { redriven: 0, already_active: 0, not_redrivable: 0, unreadable: 0, missing_job: 0 };
      for (const letter of letters) outcomes[await redriveOne(deps, kind, letter)] += 1;
      print(values['json'] ? JSON.stringify(outcomes) : `redrive from the ${kind} queue: ${JSON.stringify(outcomes)}`);
      return 0;
    } finally {
      await runtime.close();
    }
  },
};
