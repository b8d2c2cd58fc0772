/**
 * A counting proxy for the benchmarks, run as its own process (so its CPU is not billed to the
 * driver or to the process under test):
 *   - HTTP proxies in front of dynalite and fauxqs that count every request by operation:
 *     the X-Amz-Target header for DynamoDB and SQS (JSON protocol), plus the table a DynamoDB
 *     request names; the SDK's `x-id` query (or method + path shape) for S3;
 *   - a TCP proxy in front of redis-server that parses the RESP stream the clients send and
 *     counts each command they issue (round trips, as opposed to INFO commandstats, which also
 *     counts the commands a Lua script runs inside Redis).
 * Bytes are forwarded unchanged (the Host header too: the emulators build queue URLs from it).
 *
 *   node --import tsx counting-proxy-entry.ts '<json {http:[{name,target}], redis?:{target}}>'
 * IPC: sends {type:'ready', ports:{name:port}}; answers {type:'snapshot'} with {type:'counts'}.
 * Exits when the IPC channel closes, so it never outlives the benchmark.
 */
import { Agent, createServer as createHttpServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createConnection, createServer as createTcpServer, type Socket } from 'node:net';

interface ProxySpec {
  http: Array<{ name: string; target: string }>;
  redis?: { target: string };
}

export interface ProxyCounts {
  /** name → operation → calls. Operation keys: DynamoDB `UpdateItem:<table>`, SQS `ReceiveMessage`, S3 `GetObject`. */
  http: Record<string, Record<string, number>>;
  /** Commands the clients sent, by upper-case name. */
  redis: Record<string, number>;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ProxySpec;
if (typeof process.send !== 'function') {
  console.error('counting-proxy-entry: needs an IPC channel (fork)');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));

const counts: ProxyCounts = { http: {}, redis: {} };
const bump = (map: Record<string, number>, key: string, by = 1) => (map[key] = (map[key] ?? 0) + by);

function operationOf(req: IncomingMessage, body: string | undefined): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const op = target.slice(target.indexOf('.') + 1);
    if (target.startsWith('DynamoDB')) {
      const table = body ? /"TableName"\s*:\s*"([^"]+)"/.exec(body)?.[1] : undefined;
      return table ? `${op}:${table}` : op;
    }
    return op;
  }
  const url = new URL(req.url ?? '/', 'http://x');
  const xid = url.searchParams.get('x-id');
  if (xid) return xid;
  // Path-style S3: /bucket or /bucket/key...
  const segments = url.pathname.split('/').filter(Boolean);
  return `${req.method} ${segments.length > 1 ? 'object' : segments.length === 1 ? 'bucket' : 'service'}`;
}

function startHttpProxy(name: string, target: string): Promise<number> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 4096 });
  const perOp = (counts.http[name] = {});
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const isDynamo = typeof req.headers['x-amz-target'] === 'string' && (req.headers['x-amz-target'] as string).startsWith('DynamoDB');
    const chunks: Buffer[] = [];
    let bytes = 0;
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.on('data', (chunk: Buffer) => {
      // Only DynamoDB bodies are read (for the table name), and only their first 4 KB.
      if (isDynamo && bytes < 4096) chunks.push(chunk);
      bytes += chunk.length;
      out.write(chunk);
    });
    req.on('end', () => {
      bump(perOp, operationOf(req, isDynamo ? Buffer.concat(chunks).toString('utf8', 0, 4096) : undefined));
      out.end();
    });
    req.on('error', () => out.destroy());
  });
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** Counts RESP commands in a client→server byte stream, across chunk boundaries. */
class RespCounter {
  private pending: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    for (;;) {
      const parsed = this.parseOne(offset);
      if (parsed === undefined) break;
      bump(counts.redis, parsed.command);
      offset = parsed.end;
    }
    this.pending = offset === 0 ? this.pending : this.pending.subarray(offset);
  }

  private line(from: number): { text: string; next: number } | undefined {
    const end = this.pending.indexOf('\r\n', from);
    if (end < 0) return undefined;
    return { text: this.pending.toString('latin1', from, end), next: end + 2 };
  }

  private parseOne(start: number): { command: string; end: number } | undefined {
    if (start >= this.pending.length) return undefined;
    if (this.pending[start] !== 0x2a /* '*' */) {
      const inline = this.line(start);
      if (!inline) return undefined;
      return { command: (inline.text.trim().split(/\s+/)[0] ?? '').toUpperCase(), end: inline.next };
    }
    const head = this.line(start);
    if (!head) return undefined;
    const n = Number(head.text.slice(1));
    let offset = head.next;
    let command = '';
    for (let i = 0; i < n; i += 1) {
      const bulk = this.line(offset);
      if (!bulk) return undefined;
      const len = Number(bulk.text.slice(1));
      if (bulk.next + len + 2 > this.pending.length) return undefined;
      if (i === 0) command = this.pending.toString('latin1', bulk.next, bulk.next + len).toUpperCase();
      offset = bulk.next + len + 2;
    }
    return { command, end: offset };
  }
}

function startRedisProxy(target: string): Promise<number> {
  const upstream = new URL(target);
  const server = createTcpServer((client: Socket) => {
    const counter = new RespCounter();
    const server = createConnection({ host: upstream.hostname, port: Number(upstream.port) });
    client.setNoDelay(true);
    server.setNoDelay(true);
    client.on('data', (chunk: Buffer) => {
      counter.feed(chunk);
      server.write(chunk);
    });
    server.pipe(client);
    const close = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

const ports: Record<string, number> = {};
for (const { name, target } of spec.http ?? []) ports[name] = await startHttpProxy(name, target);
if (spec.redis) ports['redis'] = await startRedisProxy(spec.redis.target);
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'snapshot') process.send?.({ type: 'counts', counts: structuredClone(counts) });
});
process.send({ type: 'ready', ports });
