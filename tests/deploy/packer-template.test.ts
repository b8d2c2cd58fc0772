import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from '@cdktf/hcl2json';
import { requireTool } from './support/tools.ts';

/**
 * The Packer template, checked offline: Debian's packer 1.6.6 formats and syntax-checks it, and
 * the rules an AMI must keep are asserted on the parsed HCL (hcl2json, the HCL library compiled to
 * WebAssembly). 1.6.6 cannot validate more than syntax: its bundled amazon builder predates
 * metadata_options and imds_support, and its core predates required_plugins.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const PACKER = join(ROOT, 'packer');
/** Loaded by current Packer only; see the comment in the file. */
const VERSIONS_FILE = 'versions.pkr.hcl';

type Hcl = Record<string, any>;
let packer: string;
let tree: Hcl;
let work: string;
let source: Hcl;

before(async () => {
  packer = requireTool('packer', 'packer');
  work = mkdtempSync(join(tmpdir(), 'warden-packer-'));
  tree = {};
  for (const file of readdirSync(PACKER).filter((f) => f.endsWith('.pkr.hcl'))) {
    const parsed = (await parse(file, readFileSync(join(PACKER, file), 'utf8'))) as Hcl;
    for (const [key, value] of Object.entries(parsed)) tree[key] = tree[key] ? mergeBlocks(tree[key], value) : value;
  }
  source = tree['source']?.['amazon-ebs']?.['warden']?.[0];
  assert.ok(source, 'a source "amazon-ebs" "warden" block');
});
after(() => rmSync(work, { recursive: true, force: true }));

function mergeBlocks(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (a && b && typeof a === 'object' && typeof b === 'object') return { ...(a as object), ...(b as object) };
  return b;
}

function run(args: string[], cwd: string) {
  const out = spawnSync(packer, args, { cwd, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_CHECKPOINT_DISABLE: '1' } });
  return { code: out.status, output: `${out.stdout}${out.stderr}` };
}

describe('packer template', () => {
  test('packer fmt -check finds nothing to change', () => {
    const out = run(['fmt', '-check', '-diff', '.'], PACKER);
    assert.equal(out.code, 0, out.output);
    assert.equal(out.output.trim(), '');
  });

  test('packer validate -syntax-only passes (without versions.pkr.hcl, which 1.6.6 cannot read)', () => {
    const dir = join(work, 'validate');
    mkdirSync(dir);
    for (const file of readdirSync(PACKER).filter((f) => f.endsWith('.pkr.hcl') && f !== VERSIONS_FILE)) copyFileSync(join(PACKER, file), join(dir, file));
    const out = run(['validate', '-syntax-only', '.'], dir);
    assert.equal(out.code, 0, out.output);
    assert.match(out.output, /Syntax-only check passed/);
  });

  test('versions.pkr.hcl pins the amazon plugin for current Packer', () => {
    const plugins = tree['packer']?.[0]?.['required_plugins']?.[0];
    assert.equal(plugins?.['amazon']?.['source'], 'github.com/hashicorp/amazon');
    assert.match(tree['packer'][0]['required_version'], />=/);
  });

  test('base image: current Amazon Linux 2023, owned by Amazon', () => {
    const filter = source['source_ami_filter']?.[0];
    assert.deepEqual(filter?.['owners'], ['amazon']);
    assert.equal(filter?.['most_recent'], true);
    assert.match(filter?.['filters']?.['name'], /^al2023-ami-2023\./);
    assert.equal(filter?.['filters']?.['root-device-type'], 'ebs');
  });

  test('encrypted with the deployment key', () => {
    assert.equal(source['encrypt_boot'], true);
    assert.match(source['kms_key_id'], /var\.kms_key_id/);
    for (const device of source['launch_block_device_mappings'] ?? []) {
      assert.equal(device['encrypted'], true);
      assert.match(device['kms_key_id'], /var\.kms_key_id/);
    }
  });

  test('IMDSv2 only, on the build instance and for instances of the AMI', () => {
    const metadata = source['metadata_options']?.[0];
    assert.equal(metadata?.['http_tokens'], 'required');
    assert.equal(metadata?.['http_put_response_hop_limit'], 1);
    assert.equal(source['imds_support'], 'v2.0');
  });

  test('no SSH key and no open port: Session Manager only', () => {
    const communicator = source['communicator'];
    assert.ok(communicator === 'none' || (communicator === 'ssh' && source['ssh_interface'] === 'session_manager'), `communicator ${communicator} / ${source['ssh_interface']}`);
    for (const key of ['ssh_keypair_name', 'ssh_private_key_file', 'ssh_password', 'ssh_agent_auth', 'temporary_security_group_source_cidrs', 'winrm_password']) {
      assert.equal(source[key], undefined, `${key} must not be set`);
    }
    assert.equal(source['associate_public_ip_address'], false);
    assert.equal(source['ssh_clear_authorized_keys'], true);
    assert.ok(source['security_group_id'], 'a given egress-only security group, not a temporary one with port 22 open');
  });

  test('installs the release, checked by SHA-256, and runs its self-check as the last provisioner', () => {
    const text = readFileSync(join(PACKER, 'warden.pkr.hcl'), 'utf8');
    const provisioners = [...text.matchAll(/provisioner "(\w+)" \{([\s\S]*?)\n {2}\}/g)];
    assert.ok(provisioners.length >= 3);
    const last = provisioners.at(-1)!;
    assert.equal(last[1], 'shell');
    assert.match(last[2] as string, /\/opt\/warden\/bin\/warden\.js --self-check/);
    assert.match(last[2] as string, /sudo -u warden \/usr\/bin\/node-22/, 'as the service user, on Node 22');
    const files = tree['build'][0]['provisioner']['file'] as Hcl[];
    assert.ok(files.some((f) => f['source'] === '${var.release_tarball}'));
    const script = readFileSync(join(PACKER, 'files', 'provision.sh'), 'utf8');
    assert.match(script, /sha256sum -c/);
    for (const pkg of ['nodejs22', 'amazon-cloudwatch-agent', 'amazon-ssm-agent']) assert.match(script, new RegExp(`dnf -y install[^\\n]*\\b${pkg}\\b`));
    assert.match(script, /systemctl disable sshd/);
    assert.equal(spawnSync('sh', ['-n', join(PACKER, 'files', 'provision.sh')]).status, 0);
    for (const m of script.matchAll(/"\$FILES\/([\w.-]+)"/g)) assert.ok(existsSync(join(PACKER, 'files', m[1] as string)), `${m[1]} is in packer/files`);
  });
});
