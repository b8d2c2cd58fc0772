/**
 * A bounded least-recently-used map of unwrapped data keys, keyed by their wrapped form, so a hot
 * payload (a result read on every poll of the API, a context read on every retry) costs one unwrap
 * (one KMS Decrypt), not one per read. A Map keeps insertion order: a hit re-inserts its entry at
 * the end, and eviction takes the first.
 */
export class DataKeyCache {
  readonly #entries = new Map<string, Buffer>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new TypeError('DataKeyCache: capacity must be an integer >= 0');
  }

  get size(): number {
    return this.#entries.size;
  }

  get(id: string): Buffer | undefined {
    const key = this.#entries.get(id);
    if (key !== undefined) {
      this.#entries.delete(id);
      this.#entries.set(id, key);
    }
    return key;
  }

  set(id: string, key: Buffer): void {
    if (this.capacity === 0) return;
    this.#entries.delete(id);
    this.#entries.set(id, key);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  clear(): void {
    this.#entries.clear();
  }

  // Keys never reach a log line, even through a careless `log.info({ cache })`.
  toJSON(): { size: number; capacity: number } {
    return { size: this.size, capacity: this.capacity };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `DataKeyCache { size: ${this.size}, capacity: ${this.capacity} }`;
  }
}
