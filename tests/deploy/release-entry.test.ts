import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DEV_ONLY_COMMANDS, RELEASE_COMMANDS } from '../../scripts/build/release-main.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The release has its own entry (scripts/build/release-main.ts) because src/cli/main.ts imports
 * the development commands and, through them, the emulators. This keeps the two in step: a new
 * command in main.ts must be shipped or declared development-only.
 */
test('every command of src/cli/main.ts is in the release or declared development-only', () => {
  const main = readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8');
  const files = [...main.matchAll(/from '\.\/commands\/([\w-]+)\.ts'/g)].map((m) => m[1] as string);
  assert.ok(files.length >= 4, 'main.ts imports its commands from ./commands/');
  const released = new Set(RELEASE_COMMANDS.map((c) => c.name));
  const devOnly = new Set<string>(DEV_ONLY_COMMANDS);
  for (const file of files) {
    assert.ok(released.has(file) || devOnly.has(file), `command '${file}' of main.ts is neither in RELEASE_COMMANDS nor in DEV_ONLY_COMMANDS (scripts/build/release-main.ts)`);
  }
});

test('the development-only commands are excluded from the release compile', () => {
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'scripts/build/tsconfig.release.json'), 'utf8'));
  for (const name of DEV_ONLY_COMMANDS) assert.ok(tsconfig.exclude.includes(`../../src/cli/commands/${name}.ts`), `${name}.ts excluded`);
});
