import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { configSchema } from '../../src/config/config-schema.ts';
import { requireTool } from './support/tools.ts';
import { parseUnitFile, seconds, value, values, type UnitFile } from './support/unit-file.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SYSTEMD = join(ROOT, 'systemd');
const UNITS = ['warden-supervisor.service', 'warden-secrets.service'];
const DRAIN_BUDGET_S = configSchema.properties.supervisor.properties.drainTimeoutMs.default / 1000;

let analyze: string;
let root: string;

/**
 * `systemd-analyze verify` checks that every ExecStart binary exists, and the instance's
 * /usr/bin/node-22 and /opt/warden do not exist here. So the units are verified inside a
 * throw-away root: this machine's own unit tree (for sysinit.target and friends), a stub for each
 * executable the units name, and the units where the AMI puts them.
 */
function makeRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-systemd-root-'));
  mkdirSync(join(dir, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', join(dir, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(dir, 'etc/systemd/system'), { recursive: true });
  for (const unit of UNITS) cpSync(join(SYSTEMD, unit), join(dir, 'etc/systemd/system', unit));
  for (const unit of UNITS) {
    for (const exec of values(parseUnitFile(join(SYSTEMD, unit)), 'Service', 'ExecStart')) {
      const binary = exec.replace(/^[-@:+!]+/, '').split(/\s+/)[0] as string;
      mkdirSync(join(dir, binary, '..'), { recursive: true });
      writeFileSync(join(dir, binary), '#!/bin/sh\n');
      chmodSync(join(dir, binary), 0o755);
    }
  }
  return dir;
}

function verify(units: string[]): string {
  const out = spawnSync(analyze, ['verify', `--root=${root}`, ...units.map((u) => `/etc/systemd/system/${u}`)], { encoding: 'utf8' });
  return `${out.stdout}${out.stderr}`.trim();
}

before(() => {
  analyze = requireTool('systemd-analyze', 'systemd');
  root = makeRoot();
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('systemd units', () => {
  test('systemd-analyze verify prints nothing for the units', () => {
    assert.equal(verify(UNITS), '');
  });

  test('the verify check is not vacuous: a broken unit does print', () => {
    const broken = readFileSync(join(SYSTEMD, 'warden-supervisor.service'), 'utf8').replace('[Service]', '[Service]\nRestartt=always\nExecStart=/usr/bin/absent-binary');
    writeFileSync(join(root, 'etc/systemd/system/warden-broken.service'), broken);
    assert.match(verify(['warden-broken.service']), /Restartt|absent-binary/);
  });

  test('the supervisor scores exposure <= 2.0 with systemd-analyze security --offline=true', () => {
    for (const [unit, limit] of [
      ['warden-supervisor.service', 2.0],
      ['warden-secrets.service', 2.0],
    ] as const) {
      const out = spawnSync(analyze, ['security', '--offline=true', join(SYSTEMD, unit)], { encoding: 'utf8' });
      const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(`${out.stdout}${out.stderr}`);
      assert.ok(match, `no exposure score for ${unit}:\n${out.stdout}${out.stderr}`);
      assert.ok(Number(match[1]) <= limit, `${unit} exposure ${match[1]} > ${limit}`);
    }
  });

  describe('warden-supervisor.service rules', () => {
    let unit: UnitFile;
    before(() => {
      unit = parseUnitFile(join(SYSTEMD, 'warden-supervisor.service'));
    });
    const service = (key: string) => value(unit, 'Service', key);

    test('stops by draining: SIGTERM, and a stop timeout longer than the drain budget', () => {
      assert.equal(service('KillSignal'), 'SIGTERM');
      assert.ok(seconds(service('TimeoutStopSec') ?? '0') > DRAIN_BUDGET_S, `TimeoutStopSec must exceed the ${DRAIN_BUDGET_S} s drain budget`);
      assert.equal(service('KillMode'), 'mixed', 'SIGTERM to the supervisor only, SIGKILL to the rest at the timeout');
    });

    test('restarts on failure, within a start limit', () => {
      assert.equal(service('Restart'), 'on-failure');
      assert.ok(Number(value(unit, 'Unit', 'StartLimitBurst')) >= 1);
      assert.ok(seconds(value(unit, 'Unit', 'StartLimitIntervalSec') ?? '0') > 0);
    });

    test('runs unprivileged and hardened, without MemoryDenyWriteExecute (V8 JIT)', () => {
      assert.ok(service('User') && service('User') !== 'root');
      assert.equal(service('MemoryDenyWriteExecute'), undefined);
      const expected: Record<string, string> = {
        NoNewPrivileges: 'yes',
        ProtectSystem: 'strict',
        ProtectHome: 'yes',
        PrivateTmp: 'yes',
        PrivateDevices: 'yes',
        CapabilityBoundingSet: '',
        RestrictSUIDSGID: 'yes',
        SystemCallArchitectures: 'native',
      };
      for (const [key, want] of Object.entries(expected)) assert.equal(service(key), want, key);
      assert.ok(values(unit, 'Service', 'SystemCallFilter').includes('@system-service'));
      assert.deepEqual(service('RestrictAddressFamilies')?.split(/\s+/).sort(), ['AF_INET', 'AF_INET6', 'AF_UNIX']);
      assert.ok(Number(service('LimitNOFILE')) >= 65536, 'every partition long poll and LLM call holds a socket');
      assert.ok(service('MemoryMax'), 'a memory limit');
      assert.deepEqual(values(unit, 'Service', 'ReadWritePaths'), ['/var/log/warden']);
    });

    test('no watchdog without a notifying process', () => {
      // Type=notify + WatchdogSec need sd_notify from the supervisor; see docs/operations.md.
      assert.equal(service('WatchdogSec'), undefined);
      assert.equal(service('Type'), 'exec');
    });

    test('runs the release entry with the instance config', () => {
      assert.match(service('ExecStart') ?? '', /^\/usr\/bin\/node-22 \/opt\/warden\/bin\/warden\.js supervisor --config \/etc\/warden\/warden\.json$/);
    });
  });
});

describe('fetch-secrets.sh', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'warden-secrets-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function run(secrets: Record<string, string>) {
    const stub = join(dir, 'aws');
    // A stand-in for the AWS CLI: answers get-secret-value from a table, records nothing else.
    writeFileSync(
      stub,
      `#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --secret-id ] && id="$2"; shift; done\ncase "$id" in\n${Object.entries(secrets)
        .map(([id, v]) => `  ${id}) printf '%s\\n' '${v.replaceAll("'", "'\\''")}' ;;`)
        .join('\n')}\n  *) echo "no secret $id" >&2; exit 254 ;;\nesac\n`,
    );
    chmodSync(stub, 0o755);
    const out = join(dir, 'secrets.env');
    rmSync(out, { force: true });
    const result = spawnSync('sh', [join(SYSTEMD, 'fetch-secrets.sh')], {
      encoding: 'utf8',
      env: {
        PATH: process.env['PATH'],
        AWS_REGION: 'us-east-1',
        WARDEN_REDIS_HOST: 'master.warden.cache.amazonaws.com',
        WARDEN_REDIS_PORT: '6379',
        WARDEN_REDIS_SECRET_ARN: 'redis-arn',
        WARDEN_LLM_SECRET_ARN: 'llm-arn',
        WARDEN_SECRETS_FILE: out,
        WARDEN_AWS_CLI: stub,
      },
    });
    return { ...result, out };
  }

  test('writes the Redis URL and LLM key, root-only', () => {
    const result = run({ 'redis-arn': 'a'.repeat(32), 'llm-arn': 'sk-test_0123456789abcdef' });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      readFileSync(result.out, 'utf8'),
      `WARDEN_REDIS_URL=rediss://:${'a'.repeat(32)}@master.warden.cache.amazonaws.com:6379\nWARDEN_LLM_API_KEY=sk-test_0123456789abcdef\n`,
    );
    const mode = spawnSync('stat', ['-c', '%a', result.out], { encoding: 'utf8' }).stdout.trim();
    assert.equal(mode, '600');
  });

  test('refuses a secret that would inject a line or a quote into the EnvironmentFile', () => {
    for (const bad of ['abcdefghijklmnop\nWARDEN_LOG_LEVEL=trace', 'abcdefghijklmnop" x', 'short']) {
      const result = run({ 'redis-arn': 'a'.repeat(32), 'llm-arn': bad });
      assert.notEqual(result.status, 0, `accepted ${JSON.stringify(bad)}`);
      assert.throws(() => readFileSync(result.out), /ENOENT/);
    }
  });
});
