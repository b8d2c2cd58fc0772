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

  /** Resolves with the number of free slots (at least one), or 0 if `signal` aborts first. */
  async waitForFree(signal: AbortSignal): Promise<number> {
    while (this.free <= 0) {
      if (signal.aborted) return 0;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
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
