import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { makeAwsClients } from '../../runtime/aws/aws-clients.ts';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import pino from 'pino';
import { ingestDeps } from '../../ingest/ingest-deps.ts';
import { WardenProducer } from '../../ingest/producer.ts';
import { submitJob } from '../../ingest/submit-job.ts';
import { isTerminal } from '../../jobs/job-states.ts';
import { createLogger } from '../../runtime/logger.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { Supervisor } from '../../supervisor/supervisor.ts';
import { startLocalStack } from '../local-stack.ts';

export interface PlaintextAuditReport {
  jobs: number;
  scanned_objects: number;
  scanned_items: number;
  scanned_messages: number;
  scanned_log_lines: number;
  plaintext_hits: number;
  hits: string[];
}

/**
 * Runs a workload whose prompts (input values and context) and therefore outputs carry a marker,
 * then reads every raw S3 object, every DynamoDB item, every SQS message sent or left in a queue
 * (dead-letter queues included) and every log and metrics line of the run, and counts where the
 * marker appears in plaintext. The record store, where results are meant to land, is not scanned.
 */
export async function runPlaintextAudit(options: { jobs: number; workDir: string; marker: string }): Promise<PlaintextAuditReport> {
  const dir = resolve(options.workDir);
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'warden.log');
  const stack = await startLocalStack({ partitions: 2, timeScale: 0.001, timeoutRate: 0, configOverrides: (c) => (c['metrics'] = { output: join(dir, 'metrics.emf'), flushIntervalMs: 1000 }) });
  const runtime = await createRuntime(stack.config, { log: createLogger({ level: 'debug', service: 'audit', destination: pino.destination({ dest: logFile, sync: true }) }) });
  const sent: string[] = [];
  runtime.aws.sqs.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { MessageBody?: string; Entries?: Array<{ MessageBody?: string }> };
      if (input.MessageBody) sent.push(input.MessageBody);
      for (const entry of input.Entries ?? []) if (entry.MessageBody) sent.push(entry.MessageBody);
      return next(args);
    },
    { step: 'initialize', name: 'auditSentMessages' },
  );
  const supervisor = new Supervisor(runtime, { id: 'audit-supervisor' });
  const producer = new WardenProducer({ payloads: runtime.payloads, cipher: runtime.cipher, queueFor: (p) => runtime.queueFor(p), partitions: stack.config.partitions });
  try {
    await supervisor.start();
    const ids: string[] = [];
    for (let i = 0; i < options.jobs; i += 1) {
      const inputs = { fldNotes: `${options.marker} call the customer back about invoice ${i}`, fldTitle: `Account ${i}` };
      stack.records.putRecord('appAudit', 'tblAudit', `rec${i}`, inputs);
      const request = {
        base_id: 'appAudit',
        table_id: 'tblAudit',
        record_id: `rec${i}`,
        field_id: 'fldSummary',
        prompt_version: 'summary-v1',
        inputs,
        context: `Private context for ${options.marker}: phone +1 555 0100, email someone@example.com (${i})`,
      };
      ids.push(i % 2 === 0 ? (await submitJob(ingestDeps(runtime), request)).job.id : (await producer.submit(request)).job_id);
    }
    // A poison message carrying the marker (sent by a misbehaving producer, not by warden: so not
    // through the tapped client) must not leak into a dead-letter queue.
    const outsider = makeAwsClients({ region: stack.config.aws.region, endpoints: stack.config.aws.endpoints });
    await outsider.sqs.send(new SendMessageCommand({ QueueUrl: stack.infra.queues.partitions[0], MessageBody: `not json ${options.marker}` }));
    outsider.destroy();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const states = await Promise.all(ids.map((id) => runtime.checkpoints.get(id)));
      if (states.every((job) => job && isTerminal(job.state))) break;
      if (Date.now() > deadline) throw new Error('audit workload did not finish in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    await supervisor.stop(2000);
    runtime.metrics.flush();
    return await scan(runtime, stack, sent, [logFile, join(dir, 'metrics.emf')], options.marker, ids.length);
  } finally {
    await supervisor.stop(0);
    await runtime.close();
    await stack.stop();
  }
}

async function scan(
  runtime: Awaited<ReturnType<typeof createRuntime>>,
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  sent: string[],
  files: string[],
  marker: string,
  jobs: number,
): Promise<PlaintextAuditReport> {
  const hits: string[] = [];
  const check = (where: string, text: string) => {
    if (text.includes(marker)) hits.push(where);
  };
  let objects = 0;
  const listed = await runtime.aws.s3.send(new ListObjectsV2Command({ Bucket: stack.config.bucket }));
  for (const object of listed.Contents ?? []) {
    const body = await runtime.aws.s3.send(new GetObjectCommand({ Bucket: stack.config.bucket, Key: object.Key }));
    objects += 1;
    check(`s3:${object.Key}`, Buffer.from(await body.Body!.transformToByteArray()).toString('latin1'));
  }
  let items = 0;
  for (const table of Object.values(stack.config.tables)) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await runtime.aws.doc.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of out.Items ?? []) {
        items += 1;
        check(`dynamodb:${table}:${String(item['pk'])}`, JSON.stringify(item));
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  let messages = sent.length;
  sent.forEach((body, i) => check(`sqs:sent#${i}`, body));
  const urls = [...stack.infra.queues.partitions, stack.infra.queues.dlqTransient, stack.infra.queues.dlqPermanent];
  for (const url of urls) {
    for (;;) {
      const out = await runtime.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }));
      if (!out.Messages?.length) break;
      for (const m of out.Messages) {
        messages += 1;
        check(`sqs:${url}`, `${m.Body ?? ''}${JSON.stringify(m.MessageAttributes ?? {})}`);
      }
    }
  }
  let lines = 0;
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      lines += 1;
      check(`log:${file}`, line);
    }
  }
  return { jobs, scanned_objects: objects, scanned_items: items, scanned_messages: messages, scanned_log_lines: lines, plaintext_hits: hits.length, hits: hits.slice(0, 20) };
}
