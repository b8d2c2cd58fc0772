/** Counts free job slots; the poller waits here instead of fetching work it cannot start. */
export class SlotGate {
  private used = 0;
  private waiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly capacity: number) {}

  get free(): number {
    return this.capacity - this.used;
  }

  take(): void {
    this.used += 1;
  }

  give(): void {
    this.used -= 1;
    for (const wake of this.waiters.splice(0)) wake();
    if (this.used === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Resolves with the number of free slots, or 0 if `signal` aborts first: as soon as `atLeast`
   * are free, or (with `maxWaitMs`) once that long has passed with at least one free.
   */
  async waitForFree(signal: AbortSignal, atLeast = 1, maxWaitMs?: number): Promise<number> {
    const want = Math.max(1, Math.min(atLeast, this.capacity));
    const deadline = maxWaitMs === undefined ? undefined : performance.now() + maxWaitMs;
    while (this.free < want) {
      if (signal.aborted) return 0;
      const left = deadline === undefined ? undefined : deadline - performance.now();
      if (left !== undefined && left <= 0 && this.free > 0) break;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const done = () => {
          if (timer) clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        // With a deadline and a slot already free, time alone may end the wait.
        if (left !== undefined && this.free > 0) timer = setTimeout(done, left);
        this.waiters.push(done);
        signal.addEventListener('abort', done, { once: true });
      });
    }
    return signal.aborted ? 0 : this.free;
  }

  whenIdle(): Promise<void> {
    if (this.used === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
