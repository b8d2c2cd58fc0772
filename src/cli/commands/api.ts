import { loadConfig } from '../../config/load-config.ts';
import { IngestApi } from '../../ingest/http/http-api.ts';
import { ingestDeps } from '../../ingest/ingest-deps.ts';
import { createRuntime } from '../../runtime/runtime-context.ts';
import { numberOption, requireString, type Command } from '../command.ts';
import { onShutdownSignals } from '../shutdown.ts';

export const apiCommand: Command = {
  name: 'api',
  summary: 'run the ingest HTTP API (submit, status, result, cancel)',
  usage: `Usage: warden api --config <file> [--port <n>] [--host <addr>]

Serves POST /v1/jobs, GET /v1/jobs/{id}, GET /v1/jobs/{id}/result and DELETE /v1/jobs/{id}.

Options:
  --config <file>   warden config (JSON)
  --port <n>        listen port (default: ingest.port of the config)
  --host <addr>     listen address (default: ingest.host of the config, 127.0.0.1)
  -h, --help        show this help`,
  options: { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } },
  async run(values) {
    const config = loadConfig(requireString(values, 'config'));
    const runtime = await createRuntime(config);
    const api = new IngestApi(ingestDeps(runtime), runtime.log);
    const url = await api.listen(numberOption(values, 'port', config.ingest.port), (values['host'] as string | undefined) ?? config.ingest.host);
    runtime.log.info({ url }, 'ingest API listening');
    await onShutdownSignals(runtime.log, async () => {
      await api.close();
      await runtime.close();
    });
    return 0;
  },
};
