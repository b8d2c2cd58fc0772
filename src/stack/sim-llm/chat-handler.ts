/**
 * One POST /v1/chat/completions: auth, validation, counting, then one seeded fault or
 * latency decision. Accounting happens on the response's 'close', the one event that
 * fires whether the answer was sent, the call hung, or the caller went away.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { findInputs, promptDigest } from '../sim-tags.ts';
import type { CallStats } from './call-stats.ts';
import { buildCompletion, generateContent, REFUSAL_TEXT } from './completion.ts';
import type { SimLlmFaults } from './faults.ts';
import { hasBearer, readJsonBody, sendJson } from './http-io.ts';
import { forcedErrorBody, invalidRequest, rateLimitBody, serverErrorBody } from './openai-errors.ts';
import type { ResolvedSimLlmOptions } from './options.ts';
import { lognormalMs, standardNormal, type Random } from './random.ts';
import { checkChatRequest, type ChatRequest } from './request-check.ts';
import type { Timers } from './timers.ts';

export interface ChatContext {
  readonly opts: ResolvedSimLlmOptions;
  readonly rand: Random;
  readonly stats: CallStats;
  readonly timers: Timers;
  faults(): SimLlmFaults;
  nextId(): string;
}

const SERVER_ERRORS = [500, 502, 503] as const;
const SLOW_BODY_CHUNKS = 8;

function retryAfterHeaders(seconds: number): Record<string, string> {
  // Fractional seconds under a small timeScale; OpenAI clients parse retry-after as a float
  // and prefer retry-after-ms when present.
  return { 'retry-after': String(Number(seconds.toFixed(3))), 'retry-after-ms': String(Math.round(seconds * 1000)) };
}

function authError(req: IncomingMessage) {
  return req.headers.authorization === undefined
    ? invalidRequest("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
    : invalidRequest('Incorrect API key provided.', null, 'invalid_api_key');
}

export async function handleChat(ctx: ChatContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const pending = new Set<NodeJS.Timeout>();
  let closed = false;
  let digest: string | null = null;
  let hung = false;
  let delivered: 'content' | 'refusal' | null = null;
  const header = req.headers['x-warden-member'];
  const caller = typeof header === 'string' && header !== '' ? header : 'anonymous';
  ctx.stats.begin();
  res.on('close', () => {
    closed = true;
    for (const t of pending) ctx.timers.clear(t);
    const finished = res.writableFinished;
    const outcome = finished ? res.statusCode : hung ? 'timeout' : 'aborted';
    ctx.stats.end(outcome, digest, finished ? delivered : null, performance.now() - started, caller);
  });
  const later = (ms: number, fn: () => void) => {
    const t = ctx.timers.after(ms, () => {
      pending.delete(t as NodeJS.Timeout);
      if (!closed) fn();
    });
    if (t) pending.add(t);
    else res.destroy(); // server is closing
  };

  if (!hasBearer(req, ctx.opts.apiKey)) {
    req.resume();
    return sendJson(res, 401, authError(req));
  }
  const body = await readJsonBody(req, ctx.opts.maxBodyBytes);
  if (closed) return;
  if (!body.ok) {
    if (body.reason === 'aborted') return void res.destroy();
    const message = body.reason === 'too_large' ? 'Request body too large.' : 'We could not parse the JSON body of your request.';
    return sendJson(res, body.reason === 'too_large' ? 413 : 400, invalidRequest(message));
  }
  const checked = checkChatRequest(body.value, ctx.opts.models);
  if (!checked.ok) return sendJson(res, checked.status, checked.body);
  const request = checked.request;

  digest = promptDigest(request.messages);
  ctx.stats.attempt(digest, findInputs(request.messages) !== null, caller);
  const f = ctx.faults();
  const scale = ctx.opts.timeScale;
  // A fixed number of draws per valid call: the same seed and arrival order replay the same run.
  const uOutcome = ctx.rand();
  const uSlow = ctx.rand();
  const uPick = ctx.rand();
  // The lognormal tail is cut below the provider's timeout: calls that time out are the
  // `timeoutRate` class, not an accident of the distribution (otherwise timeoutRate 0 still
  // produced timeouts, and their retries).
  const latencyMs = Math.min(lognormalMs(ctx.opts, standardNormal(ctx.rand(), ctx.rand())), 0.8 * f.hangMs * scale);

  if (f.forceStatus !== null) {
    ctx.stats.inject('forced');
    const headers = f.forceStatus === 429 ? retryAfterHeaders(f.retryAfterS * scale) : {};
    return sendJson(res, f.forceStatus, forcedErrorBody(f.forceStatus, request.model), headers);
  }
  let edge = f.timeoutRate;
  if (uOutcome < edge) {
    ctx.stats.inject('timeout');
    hung = true;
    return later(f.hangMs * scale, () => res.destroy());
  }
  edge += f.rate429;
  if (uOutcome < edge) {
    ctx.stats.inject('429');
    return sendJson(res, 429, rateLimitBody(request.model), retryAfterHeaders(f.retryAfterS * scale));
  }
  edge += f.rate5xx;
  if (uOutcome < edge) {
    ctx.stats.inject('5xx');
    const status = SERVER_ERRORS[Math.floor(uPick * SERVER_ERRORS.length)] ?? 500;
    return later(latencyMs, () => sendJson(res, status, serverErrorBody(status)));
  }
  const refuse = uOutcome < edge + f.refusalRate;
  if (refuse) ctx.stats.inject('refusal');
  const slow = uSlow < f.slowBodyRate;
  if (slow) ctx.stats.inject('slowBody');
  const answerDigest = digest;
  later(latencyMs, () => {
    delivered = refuse ? 'refusal' : 'content';
    const completion = answer(ctx, request, answerDigest, refuse);
    if (slow) dribble(res, completion, (f.slowBodyMs * scale) / SLOW_BODY_CHUNKS, later);
    else sendJson(res, 200, completion);
  });
}

function answer(ctx: ChatContext, request: ChatRequest, digest: string, refuse: boolean): Record<string, unknown> {
  return buildCompletion({
    id: ctx.nextId(),
    request,
    content: refuse ? null : generateContent(request, digest),
    refusal: refuse ? REFUSAL_TEXT : null,
    createdS: Math.floor(Date.now() / 1000),
  });
}

/** Headers at once, then the body in slices: exercises the client's body timeout, not its header timeout. */
function dribble(res: ServerResponse, body: unknown, stepMs: number, later: (ms: number, fn: () => void) => void): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
  res.flushHeaders();
  const size = Math.ceil(bytes.length / SLOW_BODY_CHUNKS);
  const step = (i: number) => {
    const chunk = bytes.subarray(i * size, (i + 1) * size);
    if (i >= SLOW_BODY_CHUNKS - 1 || (i + 1) * size >= bytes.length) return void res.end(chunk);
    res.write(chunk);
    later(stepMs, () => step(i + 1));
  };
  later(stepMs, () => step(0));
}
