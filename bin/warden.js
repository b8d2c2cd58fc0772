#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the same sources serve development and deployment.
import { register } from 'tsx/esm/api';

// The pinned AWS SDK runs on Node 20 and 22; its notice about future releases is not for operators.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
await import('../src/cli/main.ts');
