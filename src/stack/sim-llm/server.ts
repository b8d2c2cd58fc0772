/**
 * The simulated OpenAI-compatible LLM: latency, faults and the counts that prove
 * (or disprove) that the runtime paid once per distinct prompt.
 *
 * Routes: POST /v1/chat/completions, GET /v1/models, and the harness side channel
 * GET /__sim/stats, POST /__sim/reset, GET|POST /__sim/faults (no auth: loopback only).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CallStats, type SimLlmStats } from './call-stats.ts';
import { handleChat, type ChatContext } from './chat-handler.ts';
import { mergeFaults, type SimLlmFaults } from './faults.ts';
import { closeServer, listen, readJsonBody, sendJson } from './http-io.ts';
import { invalidRequest } from './openai-errors.ts';
import { resolveSimLlmOptions, type ResolvedSimLlmOptions, type SimLlmOptions } from './options.ts';
import { mulberry32, type Random } from './random.ts';
import { Timers } from './timers.ts';

export interface SimLlm {
  /** Origin, e.g. http://127.0.0.1:41234; the API lives under `${url}/v1`. */
  readonly url: string;
  readonly port: number;
  stats(): SimLlmStats;
  /** Clears cumulative counters; calls in flight stay tracked. */
  reset(): void;
  /** Merges a partial fault set onto the current one and returns the result. */
  setFaults(faults: Partial<SimLlmFaults>): SimLlmFaults;
  faults(): SimLlmFaults;
  /** Prompt digests of calls being handled right now (chaos: what a killed worker had in flight). */
  inFlightDigests(): Set<string>;
  /** LLM calls in flight now: `stats().inFlight` without building the whole snapshot. */
  inFlightCount(): number;
  /** LLM calls in flight from one caller (its `x-warden-member` header). */
  inFlightBy(caller: string): number;
  /** Valid calls seen for one prompt digest since the last reset. */
  callsFor(digest: string): number;
  close(): Promise<void>;
}

class SimLlmServer implements SimLlm {
  readonly url: string;
  private readonly counters = new CallStats();
  private readonly timers = new Timers();
  private readonly chat: ChatContext;
  private currentFaults: SimLlmFaults;
  private seq = 0;
  private closing: Promise<void> | null = null;

  constructor(private readonly opts: ResolvedSimLlmOptions, private readonly server: Server, readonly port: number) {
    this.url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    this.currentFaults = opts.faults;
    const rand: Random = mulberry32(opts.seed);
    this.chat = {
      opts,
      rand,
      stats: this.counters,
      timers: this.timers,
      faults: () => this.currentFaults,
      nextId: () => `chatcmpl-sim${(++this.seq).toString().padStart(8, '0')}`,
    };
  }

  stats(): SimLlmStats {
    return this.counters.snapshot();
  }

  inFlightCount(): number {
    return this.counters.inFlightCount;
  }

  reset(): void {
    this.counters.reset();
  }

  setFaults(patch: Partial<SimLlmFaults>): SimLlmFaults {
    this.currentFaults = mergeFaults(this.currentFaults, patch);
    return { ...this.currentFaults };
  }

  faults(): SimLlmFaults {
    return { ...this.currentFaults };
  }

  inFlightBy(caller: string): number {
    return this.counters.inFlightBy(caller);
  }

  inFlightDigests(): Set<string> {
    return this.counters.inFlightDigests();
  }

  callsFor(digest: string): number {
    return this.counters.callsFor(digest);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.timers.stop();
      await closeServer(this.server);
    })();
    return this.closing;
  }

  async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (path === '/v1/chat/completions') {
      if (method === 'POST') return handleChat(this.chat, req, res);
      return sendJson(res, 405, invalidRequest(`Method ${method} not allowed on ${path}.`), { allow: 'POST' });
    }
    if (path === '/v1/models' && method === 'GET') return this.listModels(res);
    if (path === '/__sim/stats' && method === 'GET') return sendJson(res, 200, this.stats());
    if (path === '/__sim/reset' && method === 'POST') {
      req.resume();
      this.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/__sim/faults' && method === 'GET') return sendJson(res, 200, this.faults());
    if (path === '/__sim/faults' && method === 'POST') return this.postFaults(req, res);
    req.resume();
    return sendJson(res, 404, invalidRequest(`Unknown request URL: ${method} ${path}.`, null, 'unknown_url'));
  }

  private listModels(res: ServerResponse): void {
    const ids = this.opts.models ? [...this.opts.models] : ['sim-default'];
    sendJson(res, 200, {
      object: 'list',
      data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'warden-sim' })),
    });
  }

  private async postFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, 64 * 1024);
    if (!body.ok) return sendJson(res, 400, invalidRequest(`faults body: ${body.reason}`));
    try {
      return sendJson(res, 200, this.setFaults(body.value as Partial<SimLlmFaults>));
    } catch (err) {
      return sendJson(res, 400, invalidRequest((err as Error).message, 'faults', 'invalid_value'));
    }
  }
}

/** Starts the simulated LLM on a (by default free) loopback port. */
export async function startSimLlm(options: SimLlmOptions = {}): Promise<SimLlm> {
  const opts = resolveSimLlmOptions(options);
  let sim: SimLlmServer | null = null;
  const server = createServer((req, res) => {
    if (!sim) return void res.destroy();
    sim.route(req, res).catch(() => {
      // A handler bug must not take the simulator down mid-run; the caller sees a 500.
      if (!res.headersSent) sendJson(res, 500, invalidRequest('simulator internal error'));
      else res.destroy();
    });
  });
  // Callers that vanish mid-request produce socket errors; they are routine, not fatal.
  server.on('clientError', (_err, socket) => socket.destroy());
  const port = await listen(server, opts.host, opts.port);
  sim = new SimLlmServer(opts, server, port);
  return sim;
}
