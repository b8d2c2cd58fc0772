import { request } from 'undici';
import { ValidationError, WardenError } from '../../errors.ts';

/**
 * EC2 instance metadata over IMDSv2 only: every read carries a session token obtained with a PUT,
 * which is what the launch template enforces (`HttpTokens: required`). IMDSv1 GETs would be
 * refused there, so this client never falls back to them.
 */
export interface ImdsClientOptions {
  /** Default http://169.254.169.254 (tests point it at a stand-in on 127.0.0.1). */
  endpoint?: string;
  /** Session token lifetime asked for, 1..21600 s. Default 21600 (the IMDS maximum). */
  tokenTtlS?: number;
  /** Budget of one HTTP exchange with IMDS. Default 2000 ms: IMDS answers in microseconds or is not there. */
  timeoutMs?: number;
  /** Clock for token expiry. Default Date.now. */
  now?: () => number;
}

export class ImdsError extends WardenError {
  /** The HTTP status IMDS answered, when it answered at all. */
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super('imds_unavailable', message, { retryable: true, ...(options.cause !== undefined ? { cause: options.cause } : {}) });
    this.status = options.status;
  }
}

const DEFAULT_ENDPOINT = 'http://169.254.169.254';
/** Refresh a token this long before IMDS would expire it, so a read never races the expiry. */
const TOKEN_EARLY_REFRESH_MS = 60_000;

export class ImdsClient {
  private readonly endpoint: string;
  private readonly tokenTtlS: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private token: { value: string; refreshAt: number } | undefined;
  private pendingToken: Promise<string> | undefined;

  constructor(options: ImdsClientOptions = {}) {
    const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ValidationError('invalid_option', `ImdsClient: endpoint must be an http URL, got ${JSON.stringify(endpoint)}`);
    }
    if (url.protocol !== 'http:') throw new ValidationError('invalid_option', `ImdsClient: endpoint must be an http URL, got ${JSON.stringify(endpoint)}`);
    this.endpoint = endpoint.replace(/\/+$/, '');
    const ttl = options.tokenTtlS ?? 21_600;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21_600) throw new ValidationError('invalid_option', `ImdsClient: tokenTtlS must be an integer in 1..21600, got ${ttl}`);
    this.tokenTtlS = ttl;
    const timeoutMs = options.timeoutMs ?? 2_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ValidationError('invalid_option', `ImdsClient: timeoutMs must be a positive integer, got ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
    this.now = options.now ?? Date.now;
  }

  /** The text at `path` (e.g. `/latest/meta-data/instance-id`), or undefined when IMDS answers 404. */
  async get(path: string, signal?: AbortSignal): Promise<string | undefined> {
    for (let attempt = 0; ; attempt += 1) {
      const token = await this.sessionToken(signal);
      const response = await this.exchange('GET', path, { 'x-aws-ec2-metadata-token': token }, signal);
      // 401: the token expired or IMDS restarted; one fresh token, then give up loudly.
      if (response.status === 401 && attempt === 0) {
        this.token = undefined;
        continue;
      }
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new ImdsError(`IMDS GET ${path} answered ${response.status}`, { status: response.status });
      return response.body;
    }
  }

  async instanceId(signal?: AbortSignal): Promise<string> {
    return this.required('/latest/meta-data/instance-id', signal);
  }

  async region(signal?: AbortSignal): Promise<string> {
    return this.required('/latest/meta-data/placement/region', signal);
  }

  /**
   * The Auto Scaling target lifecycle state of this instance (`InService`, `Terminated`,
   * `Warmed:Stopped`, ...), or undefined when the instance is not in an Auto Scaling group.
   */
  async targetLifecycleState(signal?: AbortSignal): Promise<string | undefined> {
    const state = await this.get('/latest/meta-data/autoscaling/target-lifecycle-state', signal);
    return state?.trim() || undefined;
  }

  private async required(path: string, signal?: AbortSignal): Promise<string> {
    const value = (await this.get(path, signal))?.trim();
    if (!value) throw new ImdsError(`IMDS has nothing at ${path}`, { status: 404 });
    return value;
  }

  private sessionToken(signal?: AbortSignal): Promise<string> {
    if (this.token && this.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    // One PUT for all concurrent readers.
    this.pendingToken ??= (async () => {
      try {
        const response = await this.exchange('PUT', '/latest/api/token', { 'x-aws-ec2-metadata-token-ttl-seconds': String(this.tokenTtlS) }, signal);
        if (response.status !== 200 || response.body === '') {
          throw new ImdsError(`IMDSv2 token request answered ${response.status}`, { status: response.status });
        }
        const lifetimeMs = this.tokenTtlS * 1000;
        this.token = { value: response.body, refreshAt: this.now() + Math.max(lifetimeMs - TOKEN_EARLY_REFRESH_MS, lifetimeMs / 2) };
        return response.body;
      } finally {
        this.pendingToken = undefined;
      }
    })();
    return this.pendingToken;
  }

  private async exchange(method: 'GET' | 'PUT', path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<{ status: number; body: string }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await request(`${this.endpoint}${path}`, {
        method,
        headers,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      return { status: response.statusCode, body: await response.body.text() };
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ImdsError(`IMDS ${method} ${path} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
