/**
 * Kills what the local stack spawned when this process goes away without calling stop(): normal
 * exit, an uncaught exception, or SIGINT/SIGTERM/SIGHUP. Cleanups run inside the 'exit' event, so
 * they must be synchronous (process.kill, fs.rmSync).
 *
 * Signals: when this module is the only listener, it runs the cleanups and re-raises the signal so
 * the process still dies the default way (exit status 128+n). When the application has its own
 * listener (the supervisor drains on SIGTERM), the application owns shutdown: killing Redis in the
 * middle of a drain would break it, so the cleanups wait for 'exit' instead.
 */
export type SyncCleanup = () => void;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const cleanups = new Set<SyncCleanup>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch {
      // One failed cleanup must not keep the others from killing their processes.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  runAll();
  uninstall();
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

// Listening to a signal replaces Node's default "die on signal"; drop the listeners as soon as
// nothing needs cleaning so a process without children keeps the default behaviour.
function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', runAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Registers a synchronous cleanup; the returned function unregisters it (call it from stop()). */
export function onProcessExit(cleanup: SyncCleanup): () => void {
  cleanups.add(cleanup);
  install();
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0) uninstall();
  };
}
