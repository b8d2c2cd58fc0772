/**
 * Entry point of an emulator child process (see child-server.ts):
 *   node --import tsx server-child-entry.ts <dynalite|fauxqs> <port> <region>
 * Listens on 127.0.0.1, reports the bound port over IPC, and exits as soon as the IPC channel to
 * the parent closes, so a parent that dies (even by SIGKILL) takes the emulator with it.
 */
import type { ChildReadyMessage } from './child-server.ts';
import { listenDynalite } from './dynalite-server.ts';
import { listenFauxqs } from './fauxqs-server.ts';

const [kind, portArg, region] = process.argv.slice(2);
const port = Number(portArg ?? '0');

if (typeof process.send !== 'function') {
  console.error('server-child-entry: must be started with an IPC channel (child_process.fork)');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));

const listening =
  kind === 'dynalite' ? listenDynalite(port) : kind === 'fauxqs' ? listenFauxqs(port, region) : undefined;
if (listening === undefined) {
  console.error(`server-child-entry: unknown server kind ${JSON.stringify(kind)}`);
  process.exit(2);
}

listening.then(
  (server) => {
    const message: ChildReadyMessage = { type: 'listening', port: server.port };
    process.send?.(message);
  },
  (error: unknown) => {
    console.error(`server-child-entry: ${kind} failed to listen:`, error);
    process.exit(1);
  },
);
