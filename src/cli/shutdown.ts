import type { Logger } from 'pino';

/**
 * Resolves once the process has shut down on SIGTERM or SIGINT: the first signal drains
 * (`hard = false`), a second one during the drain stops at once (`hard = true`).
 */
export function onShutdownSignals(log: Logger, shutdown: (hard: boolean) => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let draining: Promise<void> | undefined;
    const handler = (signal: NodeJS.Signals) => {
      if (draining) {
        log.warn({ signal }, 'second signal: stopping now');
        void shutdown(true).finally(resolve);
        return;
      }
      log.info({ signal }, 'signal received: draining');
      draining = shutdown(false).finally(() => {
        process.off('SIGTERM', handler);
        process.off('SIGINT', handler);
        resolve();
      });
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
