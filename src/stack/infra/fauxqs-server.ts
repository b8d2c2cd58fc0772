import { buildApp, type BuildAppOptions } from 'fauxqs';
import { ValidationError } from '../../errors.ts';
import { startChildServer } from './child-server.ts';
import { checkOptionalPort, checkServerMode, type ServerMode } from './server-mode.ts';

export interface FauxqsServerOptions {
  /** Default 'in-process'. */
  mode?: ServerMode;
  /** Default 0: any free port on 127.0.0.1. */
  port?: number;
  /** Region used when a request carries none (ARNs, queue URLs). Default 'us-east-1'. */
  region?: string;
}

export interface FauxqsServer {
  /** http://127.0.0.1:<port>, one endpoint for SQS (JSON protocol) and S3 (path-style). */
  readonly endpoint: string;
  readonly port: number;
  readonly mode: ServerMode;
  /**
   * The process serving requests: the child's pid in 'child' mode (chaos tests can SIGSTOP it to
   * simulate an unresponsive service), this process' pid in 'in-process' mode.
   */
  readonly pid: number;
  /** Closes the server (in-process) or kills the child. Idempotent; all data is lost. */
  stop(): Promise<void>;
}

type Stores = NonNullable<BuildAppOptions['stores']>;

/**
 * fauxqs' store classes are not in its package exports, but we need our own SqsStore: its default
 * `host` ("localhost") makes queue URLs like http://sqs.us-east-1.localhost:<port>/..., a name this
 * machine's resolver does not know. With host "" fauxqs builds the URL from the request's Host
 * header, http://127.0.0.1:<port>/000000000000/<name>, which resolves and is what the SDK calls.
 * fauxqs is pinned to 1.9.2, whose dist layout this relies on.
 */
async function loadStores(): Promise<Stores> {
  const base = import.meta.resolve('fauxqs');
  const [sqs, sns, s3] = await Promise.all([
    import(new URL('./sqs/sqsStore.js', base).href),
    import(new URL('./sns/snsStore.js', base).href),
    import(new URL('./s3/s3Store.js', base).href),
  ]);
  const sqsStore = new sqs.SqsStore();
  sqsStore.host = '';
  return { sqsStore, snsStore: new sns.SnsStore(), s3Store: new s3.S3Store() };
}

/**
 * Starts fauxqs in this process on 127.0.0.1. Its own startFauxqs() always binds 0.0.0.0, so we
 * build the fastify app with buildApp() and call listen() ourselves.
 */
export async function listenFauxqs(port = 0, region = 'us-east-1'): Promise<{ port: number; close: () => Promise<void> }> {
  const app = buildApp({ logger: false, defaultRegion: region, stores: await loadStores() });
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fauxqs: server has no TCP address');
  let closing: Promise<void> | undefined;
  // fastify's close() ends pending long polls (preClose) and, with forceCloseConnections, cuts
  // the SDK's keep-alive sockets, so it returns promptly.
  const close = (): Promise<void> => (closing ??= app.close());
  return { port: address.port, close };
}

export async function startFauxqsServer(options: FauxqsServerOptions = {}): Promise<FauxqsServer> {
  const mode = checkServerMode(options.mode, 'startFauxqsServer: options.mode');
  const requestedPort = checkOptionalPort(options.port, 'startFauxqsServer: options.port') ?? 0;
  const region = options.region ?? 'us-east-1';
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ValidationError('infra_option_invalid', `startFauxqsServer: options.region must look like us-east-1, got ${JSON.stringify(region)}`);
  }
  if (mode === 'child') {
    const child = await startChildServer('fauxqs', { port: requestedPort, region });
    return { endpoint: `http://127.0.0.1:${child.port}`, port: child.port, mode, pid: child.pid, stop: child.stop };
  }
  // An in-process server dies with this process, so unlike the child it needs no exit hook.
  const { port, close } = await listenFauxqs(requestedPort, region);
  return { endpoint: `http://127.0.0.1:${port}`, port, mode, pid: process.pid, stop: close };
}
