/**
 * Restart intensity (Erlang/OTP's MaxR in MaxT): at most `maxRestarts` in a sliding `windowMs`.
 * Past it, restarting only burns resources; the supervisor gives the partition up instead.
 */
export class RestartBudget {
  private restarts: number[] = [];

  constructor(
    private readonly maxRestarts: number,
    private readonly windowMs: number,
  ) {}

  allow(nowMs: number): boolean {
    this.restarts = this.restarts.filter((at) => nowMs - at < this.windowMs);
    if (this.restarts.length >= this.maxRestarts) return false;
    this.restarts.push(nowMs);
    return true;
  }

  get used(): number {
    return this.restarts.length;
  }
}
