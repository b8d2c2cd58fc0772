import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { startChildServer } from './child-server.ts';
import { checkOptionalPort, checkServerMode, type ServerMode } from './server-mode.ts';

export interface DynaliteServerOptions {
  /** Default 'in-process'. */
  mode?: ServerMode;
  /** Default 0: any free port on 127.0.0.1. */
  port?: number;
}

export interface DynaliteServer {
  /** http://127.0.0.1:<port> */
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

/** The part of dynalite's CommonJS API we use (it ships no type declarations). */
type DynaliteFactory = (options: {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
  path?: string;
}) => Server;

const require = createRequire(import.meta.url);

/**
 * Starts dynalite in this process on 127.0.0.1. Tables become ACTIVE at once (the 500 ms default
 * CREATING phase would only slow tests down) and data lives in memory-level: nothing on disk.
 */
export async function listenDynalite(port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const dynalite = require('dynalite') as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('dynalite: server has no TCP address');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      // close() waits for open sockets; the SDK keeps connections alive, so cut them.
      server.closeAllConnections();
    });
    return closing;
  };
  return { port: address.port, close };
}

export async function startDynaliteServer(options: DynaliteServerOptions = {}): Promise<DynaliteServer> {
  const mode = checkServerMode(options.mode, 'startDynaliteServer: options.mode');
  const requestedPort = checkOptionalPort(options.port, 'startDynaliteServer: options.port') ?? 0;
  if (mode === 'child') {
    const child = await startChildServer('dynalite', { port: requestedPort });
    return { endpoint: `http://127.0.0.1:${child.port}`, port: child.port, mode, pid: child.pid, stop: child.stop };
  }
  // An in-process server dies with this process, so unlike the child it needs no exit hook.
  const { port, close } = await listenDynalite(requestedPort);
  return { endpoint: `http://127.0.0.1:${port}`, port, mode, pid: process.pid, stop: close };
}
