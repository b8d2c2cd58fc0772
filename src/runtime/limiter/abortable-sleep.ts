/**
 * Sleeps `ms`, or rejects with the reason of the first of `signals` to abort. Listeners are
 * removed either way, so thousands of waiters leave nothing behind on a long-lived signal.
 */
export function abortableSleep(ms: number, signals: ReadonlyArray<AbortSignal | undefined>): Promise<void> {
  for (const signal of signals) {
    if (signal?.aborted) return Promise.reject(signal.reason);
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = (event: Event): void => {
      clearTimeout(timer);
      cleanup();
      reject((event.target as AbortSignal).reason);
    };
    const cleanup = (): void => {
      for (const signal of signals) signal?.removeEventListener('abort', onAbort);
    };
    const timer = setTimeout(() => {
      cleanup();
      resolve();
    }, Math.max(0, ms));
    for (const signal of signals) signal?.addEventListener('abort', onAbort, { once: true });
  });
}
