import { Dispatcher, Pool } from 'undici';

/**
 * Connections per shard. undici's Pool finds a free connection by walking its clients from the
 * first on every request (twice when the one it picks becomes busy): with ~3,000 LLM calls out
 * on 8,192 connections, that walk was 5% of the event loop at peak. Shards of 128 bound it.
 */
const CONNECTIONS_PER_SHARD = 128;

/**
 * Many keep-alive connections to one origin, as several small undici Pools taken in turn. Calls
 * that last seconds need thousands of connections; no single Pool should hold them all.
 */
export class ShardedPool extends Dispatcher {
  private readonly shards: Pool[];
  private next = 0;

  constructor(origin: string | URL, options: Pool.Options & { connections: number }) {
    super();
    if (!Number.isInteger(options.connections) || options.connections < 1) throw new RangeError(`connections must be a positive integer, got ${options.connections}`);
    const count = Math.ceil(options.connections / CONNECTIONS_PER_SHARD);
    const each = Math.ceil(options.connections / count);
    this.shards = Array.from({ length: count }, () => new Pool(origin, { ...options, connections: each }));
  }

  get shardCount(): number {
    return this.shards.length;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const shard = this.shards[this.next] as Pool;
    this.next = (this.next + 1) % this.shards.length;
    return shard.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closed = Promise.all(this.shards.map((shard) => shard.close())).then(() => undefined);
    if (!callback) return closed;
    void closed.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const done = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const destroyed = Promise.all(this.shards.map((shard) => shard.destroy(err))).then(() => undefined);
    if (!done) return destroyed;
    void destroyed.then(done, done);
  }
}
