/**
 * Every timer the simulator schedules, so close() can cancel them all and no hung or
 * slow call keeps the process alive after a test.
 */

export class Timers {
  private readonly live = new Set<NodeJS.Timeout>();
  private stopped = false;

  /** Schedules `fn`; returns null once stopped, so nothing new starts during close(). */
  after(ms: number, fn: () => void): NodeJS.Timeout | null {
    if (this.stopped) return null;
    const t = setTimeout(() => {
      this.live.delete(t);
      fn();
    }, Math.max(0, ms));
    this.live.add(t);
    return t;
  }

  clear(t: NodeJS.Timeout | null): void {
    if (t === null) return;
    clearTimeout(t);
    this.live.delete(t);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}
