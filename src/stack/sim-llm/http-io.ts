/**
 * Small node:http helpers shared by both simulators (the record store imports them
 * from here because the simulators own no common folder).
 */
import type { IncomingMessage, ServerResponse, Server } from 'node:http';

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: 'too_large' | 'invalid_json' | 'aborted' };

/** Reads and parses a JSON body; never throws, since a caller aborting mid-body is routine. */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > limitBytes) return { ok: false, reason: 'too_large' };
      chunks.push(buf);
    }
  } catch {
    return { ok: false, reason: 'aborted' };
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}

/** Sends a JSON answer unless the caller is already gone. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Checks `Authorization: Bearer <secret>`; an unset secret means no auth. */
export function hasBearer(req: IncomingMessage, secret: string | undefined): boolean {
  if (secret === undefined) return true;
  return req.headers.authorization === `Bearer ${secret}`;
}

/** Listens on host:port and resolves with the bound port (port 0 picks a free one). */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const addr = server.address();
      if (addr === null || typeof addr === 'string') reject(new Error('server has no TCP address'));
      else resolve(addr.port);
    });
  });
}

/** Stops accepting, drops every socket (keep-alive or mid-answer) and waits for the close. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Validates a host/port pair of simulator options, naming the bad field. */
export function checkHostPort(where: string, host: unknown, port: unknown): { host: string; port: number } {
  const h = host ?? '127.0.0.1';
  const p = port ?? 0;
  if (typeof h !== 'string' || h === '') throw new TypeError(`${where}.host must be a non-empty string`);
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) {
    throw new TypeError(`${where}.port must be an integer in 0-65535`);
  }
  return { host: h, port: p };
}
