import { loadConfig } from '../../config/load-config.ts';
import { IngestApi } from '../../ingest/http/http-api.ts';
import { ingestDeps } from '../../ingest/ingest-deps.ts';
import { authFromEnv } from '../../ingest/auth/auth-from-env.ts';
import { accessLoggedResultReader } from '../../ingest/http/result-reader.ts';
import { ValidationError } from '../../errors.ts';
import { openResult } from '../../runtime/crypto/job-sealing.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { numberOption, requireString, type Command } from '../command.ts';
import { onShutdownSignals } from '../shutdown.ts';

export const apiCommand: Command = {
  name: 'api',
  summary: 'run the ingest HTTP API (submit, status, result, cancel)',
  usage: `Usage: warden api --config <file> [--port <n>] [--host <addr>]

Serves POST /v1/jobs, GET /v1/jobs (filters, cursor), GET /v1/jobs/{id}, GET /v1/jobs/{id}/result,
DELETE /v1/jobs/{id} and GET /openapi.json. Every call but the OpenAPI document needs a credential:
API keys from WARDEN_API_KEYS (or WARDEN_API_KEYS_FILE) and/or JWTs verified with
WARDEN_JWT_SECRET, WARDEN_JWT_PUBLIC_KEY or WARDEN_JWT_JWKS_URL (src/ingest/auth/README.md).
Set WARDEN_API_CURSOR_SECRET (32+ bytes, the same on every instance) for stable list cursors.

Options:
  --config <file>   warden config (JSON)
  --port <n>        listen port (default: ingest.port of the config)
  --host <addr>     listen address (default: ingest.host of the config, 127.0.0.1)
  -h, --help        show this help`,
  options: { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
  async run(values) {
    const config = loadConfig(requireString(values, 'config'));
    const runtime = await createRuntime(config);
    const auth = authFromEnv();
    if (!auth) throw new ValidationError('auth_not_configured', 'set WARDEN_API_KEYS (or _FILE) and/or a WARDEN_JWT_* key source: see src/ingest/auth/README.md');
    const api = new IngestApi(ingestDeps(runtime), runtime.log, {
      auth,
      readResult: accessLoggedResultReader({ accessLog: runtime.accessLog, clock: runtime.clock, open: (job) => openResult(runtime.cipher, job) }),
      ...(process.env['WARDEN_API_CURSOR_SECRET'] ? { cursorSecret: process.env['WARDEN_API_CURSOR_SECRET'] } : {}),
    });
    const url = await api.listen(numberOption(values, 'port', config.ingest.port), (values['host'] as string | undefined) ?? config.ingest.host);
    runtime.log.info({ url }, 'ingest API listening');
    await onShutdownSignals(runtime.log, async () => {
      await api.close();
      await runtime.close();
    });
    return 0;
  },
};
