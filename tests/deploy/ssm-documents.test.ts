import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seedRequest, startHarness, type Harness } from '../support/harness.ts';

/**
 * The SSM Run Command documents, run as the SSM agent runs them: each parameter checked against
 * its allowedPattern (SSM refuses the command otherwise), handed to the script as the environment
 * variable SSM_<Name> (interpolationType ENV_VAR), the step's runCommand lines run as one sh
 * script. Commands the CLI has are run for real against the local stack; for the others the
 * test pins the exact argv the document hands to `warden`, through a recording stand-in.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SSM_DIR = join(ROOT, 'ssm');

interface SsmParameter {
  type: string;
  description: string;
  default?: string;
  allowedPattern?: string;
  interpolationType?: string;
}
interface SsmDocument {
  schemaVersion: string;
  description: string;
  parameters: Record<string, SsmParameter>;
  mainSteps: Array<{ action: string; name: string; precondition?: unknown; inputs: { runCommand: string[]; timeoutSeconds?: string } }>;
}

const DOCUMENTS: Record<string, SsmDocument> = Object.fromEntries(
  readdirSync(SSM_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => [file.slice(0, -'.json'.length), JSON.parse(readFileSync(join(SSM_DIR, file), 'utf8')) as SsmDocument]),
);

const HOSTILE = ['; rm -rf /', '$(touch /tmp/pwned)', '`id`', 'a && b', 'x | sh', 'a\nb', "'", '"', '${IFS}', '--config=/tmp/evil.json', '-h', ''];

class SsmRejected extends Error {}

let work: string;

/** Runs a document as the agent would; `bypassPatterns` simulates a value that got past SSM. */
async function runDocument(
  name: string,
  parameters: Record<string, string>,
  env: Record<string, string>,
  options: { bypassPatterns?: boolean } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const doc = DOCUMENTS[name];
  if (!doc) throw new Error(`no document ${name}`);
  const ssmEnv: Record<string, string> = {};
  for (const [key, spec] of Object.entries(doc.parameters)) {
    const value = parameters[key] ?? spec.default;
    if (value === undefined) throw new SsmRejected(`parameter ${key} is required`);
    if (!options.bypassPatterns && spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value)) {
      throw new SsmRejected(`parameter ${key} does not match ${spec.allowedPattern}`);
    }
    ssmEnv[`SSM_${key}`] = value;
  }
  const script = join(work, `${name}-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(script, `${doc.mainSteps.map((step) => step.inputs.runCommand.join('\n')).join('\n')}\n`);
  return new Promise((resolvePromise) => {
    const child = spawn('sh', [script], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work, ...ssmEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A stand-in `warden` that prints its argv as one JSON line per call. */
function recordingWarden(): string {
  const path = join(work, 'warden-recorder');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" -e 'process.stdout.write(JSON.stringify(process.argv.slice(1)) + "\\n")' -- "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** The development CLI (tsx), standing in for /usr/local/bin/warden on an instance. */
function realWarden(): string {
  const path = join(work, 'warden-real');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'warden.js')}" "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Whether the CLI has this (sub)command yet: its --help exits 0. */
function cliHas(words: string[]): boolean {
  const out = spawnSync(process.execPath, [join(ROOT, 'bin', 'warden.js'), ...words, '--help'], { encoding: 'utf8', timeout: 30_000 });
  return out.status === 0 && !/unknown command/.test(out.stderr);
}

const argvOf = (stdout: string): string[][] =>
  stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('['))
    .map((line) => JSON.parse(line) as string[]);

before(() => {
  work = mkdtempSync(join(tmpdir(), 'warden-ssm-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('SSM documents: structure', () => {
  test('the six documents exist', () => {
    assert.deepEqual(Object.keys(DOCUMENTS).sort(), ['warden-backfill-pause', 'warden-backfill-resume', 'warden-dlq-redrive', 'warden-drain', 'warden-resume', 'warden-status']);
  });

  for (const [name, doc] of Object.entries(DOCUMENTS)) {
    test(`${name}: schema 2.2 shell steps, parameters by environment, each with an allowedPattern its default passes`, () => {
      assert.equal(doc.schemaVersion, '2.2');
      assert.ok(doc.description.length > 20);
      assert.ok(doc.mainSteps.length >= 1);
      const script = doc.mainSteps.map((step) => step.inputs.runCommand.join('\n')).join('\n');
      for (const step of doc.mainSteps) {
        assert.equal(step.action, 'aws:runShellScript');
        assert.deepEqual(step.precondition, { StringEquals: ['platformType', 'Linux'] });
        assert.ok(Number(step.inputs.timeoutSeconds) > 0);
      }
      assert.ok(!script.includes('{{'), 'no {{ }} interpolation into the script: parameters come as environment variables');
      assert.match(script, /^set -eu$/m);
      for (const [key, spec] of Object.entries(doc.parameters)) {
        assert.equal(spec.type, 'String');
        assert.equal(spec.interpolationType, 'ENV_VAR', `${key} by environment variable`);
        assert.ok(spec.allowedPattern?.startsWith('^') && spec.allowedPattern.endsWith('$'), `${key} has an anchored allowedPattern`);
        assert.ok(spec.default !== undefined && new RegExp(spec.allowedPattern as string).test(spec.default), `${key} default passes its pattern`);
        assert.ok(script.includes(`$SSM_${key}`), `${key} is used`);
      }
      for (const match of script.matchAll(/\$\{?SSM_(\w+)/g)) assert.ok(match[1] && match[1] in doc.parameters, `SSM_${match[1]} is a declared parameter`);
      // Every expansion of a parameter sits inside double quotes.
      for (const line of script.split('\n')) {
        const unquoted = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
        assert.ok(!/\$\{?SSM_/.test(unquoted), `unquoted parameter expansion in: ${line}`);
      }
    });

    test(`${name}: allowedPattern refuses shell metacharacters`, () => {
      for (const [key, spec] of Object.entries(doc.parameters)) {
        for (const value of HOSTILE) {
          assert.ok(!new RegExp(spec.allowedPattern as string).test(value), `${key} accepted ${JSON.stringify(value)}`);
        }
      }
    });
  }
});

describe('SSM documents: what they run', () => {
  const expected: Record<string, { params: Record<string, string>; argv: string[][] }> = {
    'warden-status': { params: { Connectivity: 'true' }, argv: [['status', '--config=/etc/warden/warden.json', '--json'], ['self-check', '--config=/etc/warden/warden.json', '--connectivity']] },
    'warden-drain': { params: { TimeoutSeconds: '120', Reason: 'ticket OPS-12: bad host' }, argv: [['drain', '--config=/etc/warden/warden.json', '--timeout=120', '--reason=ticket OPS-12: bad host']] },
    'warden-resume': { params: {}, argv: [['resume', '--config=/etc/warden/warden.json', '--reason=operator request']] },
    'warden-dlq-redrive': { params: { Queue: 'permanent', Max: '25', DryRun: 'false' }, argv: [['dlq', 'redrive', '--config=/etc/warden/warden.json', '--queue=permanent', '--max=25', '--json']] },
    'warden-backfill-pause': { params: { PromptVersion: 'summary-v2' }, argv: [['backfill', 'pause', '--config=/etc/warden/warden.json', '--prompt-version=summary-v2', '--reason=operator request']] },
    'warden-backfill-resume': { params: {}, argv: [['backfill', 'resume', '--config=/etc/warden/warden.json', '--prompt-version=all', '--reason=operator request']] },
  };

  for (const [name, { params, argv }] of Object.entries(expected)) {
    test(`${name} calls warden with exactly these arguments`, async () => {
      const out = await runDocument(name, params, { WARDEN_BIN: recordingWarden() });
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(argvOf(out.stdout), argv);
    });
  }

  test('a value outside allowedPattern never reaches the instance', async () => {
    await assert.rejects(runDocument('warden-drain', { Reason: '$(reboot)' }, {}), SsmRejected);
    await assert.rejects(runDocument('warden-dlq-redrive', { Queue: 'transient; rm -rf /' }, {}), SsmRejected);
  });

  test('even a hostile value that got past SSM stays one literal argument', async () => {
    const marker = join(work, 'pwned');
    const hostile = [`$(touch ${marker})`, `\`touch ${marker}\``, `; touch ${marker}`, `x" ; touch ${marker}; echo "`];
    for (const [name, doc] of Object.entries(DOCUMENTS)) {
      for (const key of Object.keys(doc.parameters)) {
        for (const value of hostile) {
          const out = await runDocument(name, { [key]: value }, { WARDEN_BIN: recordingWarden() }, { bypassPatterns: true });
          assert.ok(!existsSync(marker), `${name} ${key}=${value} executed shell`);
          // Either the script refused it (a boolean parameter compared by value) or warden got it verbatim.
          if (out.code === 0) assert.ok(argvOf(out.stdout).flat().some((arg) => arg.endsWith(value)) || !out.stdout.includes('touch'), `${name} ${key} passed verbatim`);
        }
      }
    }
  });
});

describe('SSM documents against the local stack', () => {
  let h: Harness | undefined;
  let config: string;
  before(async () => {
    if (!cliHas(['dlq'])) return;
    h = await startHarness({
      configOverrides: (c) => {
        c['llm'] = { ...c['llm'], maxAttempts: 2, backoffBaseMs: 10, backoffMaxMs: 20 };
      },
    });
    config = h.stack.writeConfig(join(work, 'local.json'));
  });
  after(async () => {
    await h?.stop();
  });

  test('warden-dlq-redrive lists, then redrives a dead-lettered job to success', async () => {
    assert.ok(h, 'the local stack started');
    h.stack.llm.setFaults({ forceStatus: 503 });
    let id: string;
    try {
      const { body } = await h.post(seedRequest(h));
      id = body.id;
      assert.equal((await h.waitFor(id)).state, 'dead_lettered');
    } finally {
      h.stack.llm.setFaults({ forceStatus: null });
    }
    const env = { WARDEN_BIN: realWarden(), WARDEN_CONFIG: config };
    const listed = await runDocument('warden-dlq-redrive', {}, env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(JSON.parse(listed.stdout.trim().split('\n').at(-1) as string).some((l: { job_id: string }) => l.job_id === id), listed.stdout);
    const redriven = await runDocument('warden-dlq-redrive', { DryRun: 'false', Max: '10' }, env);
    assert.equal(redriven.code, 0, redriven.stderr);
    assert.ok(JSON.parse(redriven.stdout.trim().split('\n').at(-1) as string).redriven >= 1, redriven.stdout);
    assert.equal((await h.waitFor(id, (job) => job.state === 'succeeded')).state, 'succeeded');
  });

  const operated: Array<[string, string[], Record<string, string>]> = [
    ['warden-status', ['status'], {}],
    ['warden-drain', ['drain'], { TimeoutSeconds: '10' }],
    ['warden-resume', ['resume'], {}],
    ['warden-backfill-pause', ['backfill', 'pause'], {}],
    ['warden-backfill-resume', ['backfill', 'resume'], {}],
  ];
  for (const [name, words, params] of operated) {
    test(`${name} runs against the local stack`, async () => {
      assert.ok(h, 'the local stack started');
      assert.ok(cliHas(words), `warden ${words.join(' ')} is a command of the CLI`);
      const out = await runDocument(name, params, { WARDEN_BIN: realWarden(), WARDEN_CONFIG: config });
      assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
    });
  }
});
