#!/usr/bin/env node
// The release's `warden`: compiled JavaScript, no TypeScript loader. Copied to bin/warden.js of the
// artifact by scripts/build/build-release.ts; resolves everything relative to its own location.
import { readFileSync } from 'node:fs';

// The pinned AWS SDK runs on Node 20 and 22; its notice about future releases is not for operators.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
try {
  process.env.WARDEN_RELEASE_VERSION ??= JSON.parse(readFileSync(new URL('../RELEASE.json', import.meta.url), 'utf8')).version;
} catch {
  // A release without its manifest still runs; --version then says "unknown".
}

const { main } = await import('../app/scripts/build/release-main.js');
const code = await main(process.argv.slice(2));
// Long-running commands have closed what they own; a stray keep-alive socket or timer in a
// dependency must not keep a drained process from exiting (systemd would SIGKILL it).
process.stdout.write('', () => process.exit(code));
