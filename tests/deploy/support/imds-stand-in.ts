import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for the EC2 instance metadata service, IMDSv2 only as the launch template
 * enforces: GETs without a valid session token get 401, like IMDS with HttpTokens=required.
 */
export interface ImdsStandIn {
  url: string;
  /** Paths under /latest/meta-data and what they answer; change them while a test runs. */
  metadata: Map<string, string>;
  /** Every request seen: method, path, whether it carried a valid token. */
  requests: Array<{ method: string; path: string; tokenOk: boolean }>;
  /** Makes the next `n` metadata GETs answer 500. */
  failNext(n: number): void;
  /** Forgets every token issued (like an IMDS restart): the next GET with an old token gets 401. */
  revokeTokens(): void;
  close(): Promise<void>;
}

export async function startImdsStandIn(initial: Record<string, string> = {}): Promise<ImdsStandIn> {
  const metadata = new Map(Object.entries(initial));
  const tokens = new Set<string>();
  const requests: ImdsStandIn['requests'] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const token = req.headers['x-aws-ec2-metadata-token'];
    const tokenOk = typeof token === 'string' && tokens.has(token);
    requests.push({ method: req.method ?? '', path, tokenOk });
    if (req.method === 'PUT' && path === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) {
        res.writeHead(400).end();
        return;
      }
      const issued = randomUUID();
      tokens.add(issued);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) }).end(issued);
      return;
    }
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (!tokenOk) {
      res.writeHead(401).end();
      return;
    }
    if (failures > 0) {
      failures -= 1;
      res.writeHead(500).end();
      return;
    }
    const value = path.startsWith('/latest/meta-data/') ? metadata.get(path.slice('/latest/meta-data/'.length)) : undefined;
    if (value === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(value);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    metadata,
    requests,
    failNext(n) {
      failures = n;
    },
    revokeTokens() {
      tokens.clear();
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
