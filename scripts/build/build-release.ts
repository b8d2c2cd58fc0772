/**
 * `npm run build`: the release tarball the AMI installs at /opt/warden.
 *
 *   warden-<version>/
 *     bin/warden.js                 the CLI, compiled JavaScript (no tsx)
 *     app/src/**                    src/ compiled by tsc (scripts/build/tsconfig.release.json),
 *                                   plus its non-TypeScript assets (Lua scripts, worker entry)
 *     app/scripts/build/release-main.js
 *     node_modules/                 production dependencies only, copied from this install as
 *                                   package-lock.json lists them (no registry access at build time)
 *     config/prompts/               the prompt templates
 *     config/warden.example.json    a valid config of the fleet's shape (infra/instance-config.ts)
 *     systemd/                      the units, sysusers and tmpfiles entries, CloudWatch agent
 *                                   and logrotate configs (installed by the Packer template)
 *     package.json, RELEASE.json    trimmed manifest; version, commit, packages and checksums
 *
 * Usage: node --import tsx scripts/build/build-release.ts [--out-dir dist/release] [--keep-staging]
 * Prints the tarball path as its last line. Fails, naming the file, when a compiled module imports
 * a package that is not a production dependency.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exampleInstanceConfig } from '../../infra/instance-config.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Compiled modules that only the development commands use; removed from the artifact. */
const DEV_ONLY_OUTPUT = ['app/src/stack', 'app/src/cli/main.js', 'app/src/cli/commands/stack.js', 'app/src/cli/commands/demo.js', 'app/src/cli/commands/chaos.js'];

/** Files of systemd/ and packer/files/ that go into the artifact for the AMI to install. */
const SHIPPED_DIRS = ['systemd'];

interface LockPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  link?: boolean;
}

export interface BuildOptions {
  outDir?: string;
  keepStaging?: boolean;
  /** Seconds since the epoch for file times in the tarball; default SOURCE_DATE_EPOCH or the last commit's time. */
  sourceDateEpoch?: number;
  log?: (line: string) => void;
}

export interface BuildResult {
  tarball: string;
  sha256: string;
  version: string;
  /** The staging tree, when kept. */
  staging?: string;
  packages: Record<string, string>;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

/** Package name of a bare specifier: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const STATIC_IMPORT_RE = /(?:^|[^\w$.])(?:import|export)\s*(?:[\w*${},\s]+?\s*from\s*)?['"]([^'"]+)['"]/g;
const DYNAMIC_IMPORT_RE = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface ImportReport {
  /** Imports that fail when the module loads: a build error. */
  errors: string[];
  /** Dynamic imports of non-production packages: fine when guarded (e.g. tsx only when running from sources). */
  warnings: string[];
}

/**
 * Every compiled module may import only node builtins, production dependencies and files that
 * exist in the artifact. A static violation is a build error naming the importer: shipping it
 * would fail at run time on the instance, far from the cause.
 */
export function checkImports(appDir: string, productionPackages: Set<string>): ImportReport {
  const report: ImportReport = { errors: [], warnings: [] };
  const builtins = new Set(builtinModules);
  for (const file of walk(appDir).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))) {
    const text = readFileSync(file, 'utf8');
    const where = relative(appDir, file);
    for (const [re, dynamic] of [
      [STATIC_IMPORT_RE, false],
      [DYNAMIC_IMPORT_RE, true],
    ] as const) {
      for (const match of text.matchAll(re)) {
        const specifier = match[1];
        if (specifier === undefined || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        const sink = dynamic ? report.warnings : report.errors;
        if (specifier.startsWith('.')) {
          if (specifier.endsWith('.ts')) sink.push(`${where}: imports TypeScript source ${specifier}`);
          else if (!existsSync(resolve(dirname(file), specifier))) sink.push(`${where}: imports ${specifier}, which is not in the artifact`);
        } else if (!productionPackages.has(packageOf(specifier))) {
          sink.push(`${where}: imports ${specifier}, which is not a production dependency`);
        }
      }
    }
  }
  return report;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function buildRelease(options: BuildOptions = {}): BuildResult {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    engines?: Record<string, string>;
    dependencies?: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const commit = git(['rev-parse', 'HEAD']);
  const dirty = git(['status', '--porcelain']) ? true : false;
  const shortCommit = commit?.slice(0, 12);
  const version = `${pkg.version}${shortCommit ? `+${shortCommit}${dirty ? '.dirty' : ''}` : ''}`;
  const fileVersion = version.replace('+', '-');
  const epoch =
    options.sourceDateEpoch ?? (Number(process.env['SOURCE_DATE_EPOCH']) || Number(git(['log', '-1', '--format=%ct'])) || Math.floor(Date.now() / 1000));

  const outDir = resolve(ROOT, options.outDir ?? 'dist/release');
  mkdirSync(outDir, { recursive: true });
  const staging = mkdtempSync(join(outDir, '.staging-'));
  const top = `warden-${fileVersion}`;
  const rel = join(staging, top);
  mkdirSync(rel);
  try {
    // 1. Compile.
    log(`build: tsc → ${relative(ROOT, rel)}/app`);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'scripts/build/tsconfig.release.json'), '--outDir', join(rel, 'app')], { cwd: ROOT, stdio: 'inherit' });
    // 2. Non-TypeScript assets next to the modules that load them by URL.
    for (const file of walk(join(ROOT, 'src'))) {
      if (file.endsWith('.ts') || file.includes(`${sep}src${sep}stack${sep}`)) continue;
      const target = join(rel, 'app', relative(ROOT, file));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(file, target);
    }
    for (const path of DEV_ONLY_OUTPUT) rmSync(join(rel, path), { recursive: true, force: true });

    // 3. Production dependencies, exactly as the lockfile resolved them.
    const packages: Record<string, string> = {};
    for (const [path, meta] of Object.entries(lock.packages)) {
      if (path === '' || meta.dev || meta.devOptional || meta.link) continue;
      const source = join(ROOT, path);
      if (!existsSync(source)) {
        if (meta.optional) continue; // an optional package for another platform
        throw new Error(`production dependency ${path} is in package-lock.json but not installed: run npm ci`);
      }
      cpSync(source, join(rel, path), {
        recursive: true,
        // Nested node_modules are separate lockfile entries (copied on their own, or dev-only).
        filter: (from) => !relative(source, from).split(sep).includes('node_modules') && !from.endsWith(`${sep}.bin`),
      });
      packages[path.replace(/^node_modules\//, '')] = meta.version ?? 'unknown';
    }
    const productionPackages = new Set(Object.keys(pkg.dependencies ?? {}));
    const imports = checkImports(join(rel, 'app'), productionPackages);
    for (const warning of imports.warnings) log(`build: note: dynamic ${warning}`);
    if (imports.errors.length > 0) throw new Error(`the release would not run:\n  ${imports.errors.join('\n  ')}`);

    // 4. Configuration, units, entry point, manifest.
    cpSync(join(ROOT, 'config', 'prompts'), join(rel, 'config', 'prompts'), { recursive: true });
    writeFileSync(join(rel, 'config', 'warden.example.json'), `${JSON.stringify(exampleInstanceConfig(), null, 2)}\n`);
    for (const dir of SHIPPED_DIRS) cpSync(join(ROOT, dir), join(rel, dir), { recursive: true });
    mkdirSync(join(rel, 'bin'));
    cpSync(join(ROOT, 'scripts/build/warden-launcher.js'), join(rel, 'bin', 'warden.js'));
    chmodSync(join(rel, 'bin', 'warden.js'), 0o755);
    writeFileSync(
      join(rel, 'package.json'),
      `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module', engines: pkg.engines, bin: { warden: 'bin/warden.js' }, dependencies: pkg.dependencies }, null, 2)}\n`,
    );
    const files = walk(rel)
      .filter((f) => !f.includes(`${sep}node_modules${sep}`))
      .map((f) => relative(rel, f))
      .sort();
    const manifest = {
      name: pkg.name,
      version,
      commit: commit ?? null,
      dirty,
      built_at: new Date(epoch * 1000).toISOString(),
      built_with_node: process.versions.node,
      // Only optional native modules (piscina's thread priority) depend on it; build on the AMI's architecture.
      platform: `${process.platform}-${process.arch}`,
      engines: pkg.engines ?? {},
      packages,
      sha256: Object.fromEntries(files.map((f) => [f, sha256File(join(rel, f))])),
    };
    writeFileSync(join(rel, 'RELEASE.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    // 5. A reproducible tarball: sorted names, fixed owner and times.
    const tarball = join(outDir, `${top}.tar.gz`);
    // gzip -n: no name or time in the gzip header either.
    execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${epoch}`, '--use-compress-program=gzip -n', '-cf', tarball, '-C', staging, top], {
      stdio: 'inherit',
    });
    const sha256 = sha256File(tarball);
    writeFileSync(`${tarball}.sha256`, `${sha256}  ${top}.tar.gz\n`);
    log(`build: ${relative(process.cwd(), tarball)} (${(statSync(tarball).size / 1e6).toFixed(1)} MB, ${Object.keys(packages).length} packages)`);
    return { tarball, sha256, version, packages, ...(options.keepStaging ? { staging: rel } : {}) };
  } finally {
    if (!options.keepStaging) rmSync(staging, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' }, 'keep-staging': { type: 'boolean' } } });
  const result = buildRelease({
    ...(values['out-dir'] !== undefined ? { outDir: values['out-dir'] } : {}),
    keepStaging: values['keep-staging'] === true,
  });
  process.stdout.write(`${result.tarball}\n`);
}
