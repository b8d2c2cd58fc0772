/** Options of the simulated record store (DESIGN.md §5 contract). */
import { checkHostPort } from '../sim-llm/http-io.ts';

export interface SimRecordStoreOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Delay before each /v0 request is processed, in ms. Default 0. */
  latencyMs?: number;
  /** When set, /v0 requests need `Authorization: Bearer <token>` or get 401. */
  token?: string;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface ResolvedSimRecordStoreOptions {
  host: string;
  port: number;
  latencyMs: number;
  token: string | undefined;
  maxBodyBytes: number;
}

export function resolveSimRecordStoreOptions(options: SimRecordStoreOptions = {}): ResolvedSimRecordStoreOptions {
  const { host, port } = checkHostPort('simRecordStore', options.host, options.port);
  const latencyMs = options.latencyMs ?? 0;
  if (typeof latencyMs !== 'number' || !Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new TypeError('simRecordStore.latencyMs must be a finite number >= 0');
  }
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || token === '')) {
    throw new TypeError('simRecordStore.token must be a non-empty string when set');
  }
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  if (typeof maxBodyBytes !== 'number' || !Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError('simRecordStore.maxBodyBytes must be an integer > 0');
  }
  return { host, port, latencyMs, token, maxBodyBytes };
}
