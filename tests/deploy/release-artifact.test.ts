import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildRelease, type BuildResult } from '../../scripts/build/build-release.ts';
import { startLocalStack, type LocalStack } from '../../src/stack/local-stack.ts';

/**
 * The release artifact, unpacked outside the repository (so nothing resolves from the repo's
 * node_modules) and run with plain `node`: no tsx, no TypeScript, no dev dependencies.
 */

const DEV_PACKAGES = ['tsx', 'typescript', 'esbuild', 'dynalite', 'fauxqs', '@types', 'fast-check', '@cdktf'];

let work: string;
let result: BuildResult;
let app: string;
let stack: LocalStack;

/**
 * Runs the artifact's CLI. Asynchronous on purpose: the local stack's emulators live in this
 * process, and a spawnSync would block the event loop that has to answer the child.
 */
function warden(args: string[], options: { timeoutMs?: number; node?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(options.node ?? process.execPath, [join(app, 'bin', 'warden.js'), ...args], {
      cwd: app,
      // The environment of a systemd service: no NODE_OPTIONS loader, no tsx.
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function writeConfig(name: string, config: unknown): string {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'warden-release-'));
  result = buildRelease({ outDir: join(work, 'out'), log: () => undefined });
  const unpacked = join(work, 'unpacked');
  spawnSync('mkdir', ['-p', unpacked]);
  const tar = spawnSync('tar', ['-xzf', result.tarball, '-C', unpacked], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  const [top] = readdirSync(unpacked);
  assert.ok(top, 'the tarball has one top directory');
  app = join(unpacked, top);
  stack = await startLocalStack({ partitions: 2, timeScale: 0.001, timeoutRate: 0 });
});

after(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('release artifact', () => {
  test('has the documented layout and a checksum file', () => {
    for (const path of ['bin/warden.js', 'RELEASE.json', 'package.json', 'config/warden.example.json', 'config/prompts', 'app/scripts/build/release-main.js', 'systemd/warden-supervisor.service']) {
      assert.ok(existsSync(join(app, path)), `${path} is in the artifact`);
    }
    accessSync(join(app, 'bin/warden.js'), constants.X_OK);
    const sums = readFileSync(`${result.tarball}.sha256`, 'utf8');
    assert.equal(sums.split(/\s+/)[0], createHash('sha256').update(readFileSync(result.tarball)).digest('hex'));
    const manifest = JSON.parse(readFileSync(join(app, 'RELEASE.json'), 'utf8'));
    assert.equal(manifest.version, result.version);
    for (const [file, sha] of Object.entries(manifest.sha256 as Record<string, string>)) {
      assert.equal(createHash('sha256').update(readFileSync(join(app, file))).digest('hex'), sha, `${file} matches RELEASE.json`);
    }
  });

  test('carries production dependencies only and no TypeScript', () => {
    const modules = readdirSync(join(app, 'node_modules'));
    for (const dev of DEV_PACKAGES) assert.ok(!modules.includes(dev), `${dev} must not be in the production install`);
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
    assert.equal(pkg.devDependencies, undefined);
    assert.equal(pkg.type, 'module');
    for (const name of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(app, 'node_modules', name)), `${name} installed`);
    const ts = spawnSync('find', [join(app, 'app'), '-name', '*.ts'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(ts, '', 'no .ts file in app/');
    assert.ok(!existsSync(join(app, 'app/src/stack')), 'the local stack is not shipped');
  });

  test('--help runs the compiled CLI without tsx', async () => {
    const out = await warden(['--help']);
    assert.equal(out.code, 0, out.stderr);
    for (const command of ['supervisor', 'api', 'dlq', 'self-check']) assert.match(out.stdout, new RegExp(`\\n  ${command} `));
    const dev = await warden(['stack']);
    assert.equal(dev.code, 2);
    assert.match(dev.stderr, /development command/);
    assert.equal((await warden(['--version'])).stdout.trim(), result.version);
  });

  test('--self-check passes offline, and with the example config', async () => {
    const bare = await warden(['--self-check']);
    assert.equal(bare.code, 0, bare.stdout + bare.stderr);
    assert.match(bare.stdout, /ok {4}runtime/);
    const example = JSON.parse(readFileSync(join(app, 'config/warden.example.json'), 'utf8'));
    example.prompts.dir = join(app, 'config/prompts'); // /opt/warden/config/prompts on an instance
    const out = await warden(['--self-check', '--config', writeConfig('example.json', example), '--json']);
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const report = JSON.parse(out.stdout);
    assert.deepEqual(
      report.checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok]),
      [
        ['runtime', true],
        ['config', true],
        ['prompts', true],
      ],
    );
  });

  test('a bad config fails the self-check naming the field', async () => {
    const out = await warden(['--self-check', '--config', writeConfig('bad.json', { redis: { url: 'redis://x' }, llm: { baseUrl: 'http://x' }, recordStore: { baseUrl: 'http://x' } })]);
    assert.equal(out.code, 1);
    assert.match(out.stdout, /FAIL {2}config .*llm\.model is required/);
  });

  test('--self-check --connectivity reaches every dependency of the local stack', async () => {
    const config = { ...stack.config, prompts: { dir: join(app, 'config/prompts') } };
    const out = await warden(['--self-check', '--config', writeConfig('local.json', config), '--connectivity', '--json', '--timeout', '3000']);
    const report = JSON.parse(out.stdout);
    assert.equal(out.code, 0, JSON.stringify(report.checks.filter((c: { ok: boolean }) => !c.ok)));
    const names = report.checks.map((c: { check: string }) => c.check);
    for (const name of ['redis', 'dynamodb:warden-jobs', 'dynamodb:warden-fences', 'sqs', 's3:warden-payloads', 'llm', 'record-store']) assert.ok(names.includes(name), name);
  });

  test('--connectivity fails fast, by name, when a dependency is down', async () => {
    const config = { ...stack.config, redis: { url: 'redis://127.0.0.1:9' }, prompts: { dir: join(app, 'config/prompts') } };
    const started = Date.now();
    const out = await warden(['self-check', '--config', writeConfig('no-redis.json', config), '--connectivity', '--json', '--timeout', '1000']);
    assert.equal(out.code, 1);
    const redis = JSON.parse(out.stdout).checks.find((c: { check: string }) => c.check === 'redis');
    assert.equal(redis.ok, false);
    assert.ok(Date.now() - started < 15_000);
  });

  test('the compiled supervisor starts against the local stack and drains on SIGTERM', async () => {
    const config = writeConfig('supervisor.json', { ...stack.config, prompts: { dir: join(app, 'config/prompts') }, log: { level: 'info' } });
    const child = spawn(process.execPath, [join(app, 'bin', 'warden.js'), 'supervisor', '--config', config, '--id', 'artifact-smoke'], {
      cwd: app,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: work },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 20_000;
    while (!/supervisor started/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        assert.fail(`supervisor did not start:\n${output.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    assert.equal(code, 0, output.slice(-2000));
    assert.match(output, /drain/i);
  });
});
