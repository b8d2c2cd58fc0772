import { connect } from 'node:net';

/**
 * Sends one command over a fresh RESP connection and returns the reply: a status or error line
 * as sent ("+PONG", "+OK", "-LOADING ...") or the payload of a bulk string (INFO). Only for the
 * stack's own probes (PING, INFO, SAVE): no client library, so no reconnect loop or queued
 * commands linger after a failure. Arrays are not parsed.
 */
export function redisCommand(
  port: number,
  args: string[],
  options: { host?: string; timeoutMs?: number } = {},
): Promise<string> {
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.timeoutMs ?? 1_000;
  const payload = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    let buffered = '';
    const socket = connect({ port, host });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis ${args[0]} timed out after ${timeoutMs} ms`)));
    socket.once('error', reject);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const reply = parseReply(buffered);
      if (reply === undefined) return;
      socket.destroy();
      resolve(reply);
    });
    socket.once('close', () => reject(new Error(`redis ${args[0]}: connection closed without a reply`)));
  });
}

function parseReply(buffered: string): string | undefined {
  const end = buffered.indexOf('\r\n');
  if (end === -1) return undefined;
  const line = buffered.slice(0, end);
  if (!line.startsWith('$')) return line;
  const length = Number(line.slice(1));
  if (length < 0) return '';
  const body = Buffer.from(buffered.slice(end + 2), 'utf8');
  return body.length >= length ? body.subarray(0, length).toString('utf8') : undefined;
}

/** True when the server on `port` answers PING with PONG (false while refusing or loading). */
export async function redisAnswersPing(port: number, timeoutMs = 500): Promise<boolean> {
  try {
    return (await redisCommand(port, ['PING'], { timeoutMs })) === '+PONG';
  } catch {
    return false;
  }
}

/** The process_id the server on `port` reports in INFO server, or undefined if it cannot say. */
export async function redisProcessId(port: number, timeoutMs = 500): Promise<number | undefined> {
  try {
    const match = /^process_id:(\d+)/m.exec(await redisCommand(port, ['INFO', 'server'], { timeoutMs }));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
