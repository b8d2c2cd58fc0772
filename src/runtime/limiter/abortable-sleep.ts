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

/** `promise`, or a rejection with the first abort reason; `onLate` sees a value that arrived too late. */
export function raceAbort<T>(
  promise: Promise<T>,
  signals: ReadonlyArray<AbortSignal | undefined>,
  onLate?: (value: T) => void,
): Promise<T> {
  for (const signal of signals) {
    if (signal?.aborted) {
      promise.then((value) => onLate?.(value), () => undefined);
      return Promise.reject(signal.reason);
    }
  }
  if (signals.every((signal) => signal === undefined)) return promise;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const onAbort = (event: Event): void => {
      if (settled) return;
      settled = true;
      cleanup();
      reject((event.target as AbortSignal).reason);
    };
    const cleanup = (): void => {
      for (const signal of signals) signal?.removeEventListener('abort', onAbort);
    };
    for (const signal of signals) signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        if (settled) {
          onLate?.(value);
          return;
        }
        settled = true;
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        cleanup();
        reject(error);
      },
    );
  });
}
