/**
 * Helpers for the ownership tests (tests/ownership): a local stack with short leases, in-memory
 * log capture, real `warden supervisor` processes whose exit status is observable, and polling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { devNull } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { GenerationRequest } from '../../src/jobs/generation-request.ts';
import type { JobRecord } from '../../src/jobs/job-record.ts';
import { isTerminal } from '../../src/jobs/job-states.ts';
import { partitionOf } from '../../src/jobs/partition.ts';
import { makeAwsClients } from '../../src/runtime/aws/aws-clients.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import type { RuntimeContext } from '../../src/runtime/runtime-context.ts';
import { startLocalStack, type LocalStack } from '../../src/stack/local-stack.ts';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface OwnershipStackOptions {
  partitions: number;
  /** Partition lease TTL and membership TTL (ms). Default 1500. */
  leaseTtlMs?: number;
  /** Total budget of one LLM call (ms); must exceed any slow body a test injects. Default 5000. */
  llmTimeoutMs?: number;
  /** SIGTERM drain budget of the supervisors (ms). */
  drainTimeoutMs?: number;
  /** Default 'in-process'. */
  mode?: 'in-process' | 'child';
}

/**
 * The visibility timeout of every partition queue and of the config (the actors' visibility
 * heartbeat extends messages to it): 30 s, so that "the next owner got the work well before the
 * visibility timeout" is a claim with room in it.
 */
export const VISIBILITY_S = 30;

/**
 * The local stack with short leases (rebalancing every 200 ms), a fast simulated LLM that never
 * times out on its own, a 30 s queue visibility timeout, and metrics discarded.
 */
export async function startOwnershipStack(options: OwnershipStackOptions): Promise<LocalStack> {
  const ttl = options.leaseTtlMs ?? 1500;
  const llmTimeoutMs = options.llmTimeoutMs ?? 5000;
  const stack = await startLocalStack({
    partitions: options.partitions,
    timeScale: 0.001,
    timeoutRate: 0,
    mode: options.mode ?? 'in-process',
    configOverrides: (config) => {
      config['metrics'] = { output: devNull, flushIntervalMs: 0 };
      config['llm'] = { ...config['llm'], timeoutMs: llmTimeoutMs, firstByteTimeoutMs: Math.min(llmTimeoutMs, 5000) };
      config['leases'] = { ttlMs: ttl, memberTtlMs: ttl, rebalanceIntervalMs: 200 };
      config['queues'] = { ...config['queues'], visibilityTimeoutS: VISIBILITY_S };
      if (options.drainTimeoutMs !== undefined) config['supervisor'] = { ...config['supervisor'], drainTimeoutMs: options.drainTimeoutMs, handoffTimeoutMs: 10_000 };
    },
  });
  // The stack provisions its queues with its own default; make them agree with the config.
  const aws = makeAwsClients({ region: stack.infra.region, endpoints: { sqs: stack.infra.sqsEndpoint } });
  try {
    await Promise.all(
      stack.infra.queues.partitions.map((url) => aws.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: String(VISIBILITY_S) } }))),
    );
  } catch (error) {
    await stack.stop();
    throw error;
  } finally {
    aws.destroy();
  }
  return stack;
}

export interface LogLine {
  level: number;
  time: string;
  msg?: string;
  member?: string;
  partition?: number;
  [key: string]: unknown;
}

/** A pino logger that keeps every line in memory (parsed), for asserting what a component said. */
export function memoryLogger(level = 'info'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = createLogger({
    level,
    service: 'test',
    destination: {
      write(chunk: string) {
        for (const text of chunk.split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as LogLine);
      },
    },
  });
  return { log, lines };
}

export function silentLogger(): Logger {
  return createLogger({ level: 'silent', service: 'test' });
}

/** Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await sleep(everyMs);
  }
}

let sequence = 0;

/**
 * A fresh record in the simulated record store, and `variants` requests for its fldSummary field
 * that are distinct jobs (different inputs subsets / prompt versions) yet all current, so they
 * all end succeeded and serialize on the one field. With `onPartition`, the record is chosen so
 * that its jobs land on that partition.
 */
export function seedField(stack: LocalStack, tag: string, variants = 1, onPartition?: number): GenerationRequest[] {
  let record: string;
  do {
    sequence += 1;
    record = `rec${tag}${process.pid}x${sequence}`;
  } while (onPartition !== undefined && partitionOf({ base_id: 'appOwn', table_id: 'tblOwn', record_id: record }, stack.config.partitions) !== onPartition);
  const fields = { fldNotes: `notes of ${record}`, fldTitle: `title ${sequence}`, fldOwner: `owner ${sequence}` };
  stack.records.putRecord('appOwn', 'tblOwn', record, { ...fields, fldOther: 'x' });
  const shapes: Array<{ prompt_version: string; inputs: Record<string, string> }> = [
    { prompt_version: 'summary-v1', inputs: { fldNotes: fields.fldNotes, fldTitle: fields.fldTitle } },
    { prompt_version: 'summary-v1', inputs: { fldNotes: fields.fldNotes } },
    { prompt_version: 'followup-v1', inputs: { fldNotes: fields.fldNotes, fldOwner: fields.fldOwner } },
    { prompt_version: 'summary-v1', inputs: { fldTitle: fields.fldTitle } },
    { prompt_version: 'followup-v1', inputs: { fldOwner: fields.fldOwner } },
    { prompt_version: 'followup-v1', inputs: { fldNotes: fields.fldNotes } },
  ];
  if (variants > shapes.length) throw new RangeError(`at most ${shapes.length} variants per field`);
  return shapes.slice(0, variants).map((shape) => ({ base_id: 'appOwn', table_id: 'tblOwn', record_id: record, field_id: 'fldSummary', ...shape }));
}

/** The jobs (by id) as checkpointed now; absent ones are missing from the map. */
export async function readJobs(runtime: RuntimeContext, ids: Iterable<string>): Promise<Map<string, JobRecord>> {
  const jobs = await Promise.all([...ids].map((id) => runtime.checkpoints.get(id)));
  return new Map(jobs.filter((job): job is JobRecord => job !== undefined).map((job) => [job.id, job]));
}

/** Ids of `ids` whose job is not terminal (or does not exist). */
export async function unfinished(runtime: RuntimeContext, ids: Iterable<string>): Promise<string[]> {
  const list = [...ids];
  const jobs = await readJobs(runtime, list);
  return list.filter((id) => !isTerminal(jobs.get(id)?.state ?? 'queued'));
}

/** Visible and in-flight (invisible) message counts over every partition queue. */
export async function queueCounts(runtime: RuntimeContext, stack: LocalStack): Promise<{ visible: number; invisible: number }> {
  let visible = 0;
  let invisible = 0;
  for (const url of stack.infra.queues.partitions) {
    const out = await runtime.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    visible += Number(out.Attributes?.['ApproximateNumberOfMessages'] ?? 0);
    invisible += Number(out.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0);
  }
  return { visible, invisible };
}

const WARDEN_BIN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

/**
 * Like src/stack/infra/lifeline-spawn.ts (the server dies with this process even on SIGKILL: the
 * shell watches a pipe only we hold), but the server's output goes to a log file and the shell
 * reports the server's exit status on its stdout, so a test can assert the exit code.
 */
const LIFELINE_WITH_STATUS = [
  'exec 3<&0',
  '"$@" </dev/null >>"$WARDEN_LOG" 2>&1 3<&- &',
  'server=$!',
  'echo "lifeline-pid $server"',
  '{ while read -r _ <&3; do :; done; kill -9 "$server" 2>/dev/null; } &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$server"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'echo "lifeline-status $status"',
].join('\n');

export interface WardenProcess {
  readonly id: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the server's exit status (128 + n when killed by signal n). */
  readonly exited: Promise<number>;
  hasExited(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** Parsed JSON log lines written so far (non-JSON lines are skipped). */
  logLines(): LogLine[];
  logTail(lines?: number): string;
  /** SIGKILLs the server (SIGCONT first, in case it is stopped) and waits for it to be reaped. */
  kill(): Promise<void>;
}

/** Starts `warden supervisor --config <configPath> --id <id>` as its own OS process. */
export function spawnWardenSupervisor(configPath: string, id: string, logFile: string): Promise<WardenProcess> {
  return spawnWarden(['supervisor', '--config', configPath, '--id', id], id, logFile);
}

/** Starts `warden <args>` as its own OS process, its stdout and stderr appended to `logFile`. */
export function spawnWarden(args: string[], id: string, logFile: string): Promise<WardenProcess> {
  const shell: ChildProcess = spawn('/bin/sh', ['-c', LIFELINE_WITH_STATUS, 'lifeline', process.execPath, WARDEN_BIN, ...args], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, WARDEN_LOG: logFile },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let out = '';
  let exited = false;
  let resolveExit: (status: number) => void = () => undefined;
  const exitedPromise = new Promise<number>((resolve) => (resolveExit = resolve));
  // 'close', not 'exit': the status line must have been read from stdout first.
  shell.once('close', (code) => {
    exited = true;
    shell.stdin?.destroy();
    const match = /^lifeline-status (\d+)$/m.exec(out);
    resolveExit(match ? Number(match[1]) : (code ?? -1));
  });
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return new Promise((resolve, reject) => {
    shell.once('error', reject);
    void exitedPromise.then(() => reject(new Error(`warden ${args[0]} (${id}) exited before it started:\n${readLog().slice(-2000)}`)));
    shell.stdout?.on('data', (chunk: Buffer) => {
      const before = out;
      out += chunk.toString('utf8');
      const match = /^lifeline-pid (\d+)$/m.exec(out);
      if (match === null || /^lifeline-pid/m.test(before)) return;
      const pid = Number(match[1]);
      resolve({
        id,
        pid,
        logFile,
        exited: exitedPromise,
        hasExited: () => exited,
        signal(signal) {
          if (!exited) process.kill(pid, signal);
        },
        logLines() {
          const lines: LogLine[] = [];
          for (const text of readLog().split('\n')) {
            if (!text.startsWith('{')) continue;
            try {
              lines.push(JSON.parse(text) as LogLine);
            } catch {
              // A line being written right now.
            }
          }
          return lines;
        },
        logTail(count = 40) {
          return readLog().split('\n').slice(-count).join('\n');
        },
        async kill() {
          if (exited) return;
          try {
            process.kill(pid, 'SIGCONT');
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
          await exitedPromise;
        },
      });
    });
  });
}

/** The exit status, or undefined if the process is still running after `timeoutMs`. */
export async function exitWithin(proc: WardenProcess, timeoutMs: number): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the process logged a line matching `match` (after `fromIndex` lines). */
export function waitForLog(proc: WardenProcess, what: string, match: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
  return waitUntil(
    `${proc.id} to log ${what}`,
    () => {
      if (proc.hasExited()) throw new Error(`${proc.id} exited:\n${proc.logTail()}`);
      return proc.logLines().find(match);
    },
    timeoutMs,
    50,
  );
}
