/**
 * The lease port: exclusive, expiring, fenced ownership of one partition. The supervisor and the
 * lease keeper depend on this interface, never on Redis; `redis/redis-lease-store.ts` is the
 * adapter.
 */

/** One grant of one partition to one owner. */
export interface Lease {
  readonly partition: number;
  readonly owner: string;
  /**
   * The fencing token of this grant: strictly greater than every token granted before for this
   * partition, whatever the lease backend forgot. Every checkpoint the owner writes carries it.
   */
  readonly token: number;
  /**
   * Clock.monotonicMs() taken just before the call that set the lease's expiry, so
   * `acquiredAt + ttlMs` is a lower bound of when the lease really expires (the server starts its
   * TTL later, never earlier). The lease keeper's first local deadline is computed from it.
   */
  readonly acquiredAt: number;
  /** The TTL the grant was made with. */
  readonly ttlMs: number;
}

/** What the backend says about a partition's lease (status, fair share). */
export interface LeaseHolder {
  readonly owner: string;
  /** null while the grant is being made (reserved, token not yet minted and confirmed). */
  readonly token: number | null;
  /** Milliseconds until the lease expires unless renewed. */
  readonly ttlMs: number;
}

export interface LeaseStore {
  /**
   * Grants `partition` to `owner` for `ttlMs` if nobody else holds it, with a freshly minted
   * fencing token; null when another owner holds it (or won a race for it). An owner id that
   * already holds the partition (a restarted process with a stable id) gets a new grant with a
   * higher token, and its older lease is lost: owner ids must be unique among live processes.
   */
  acquire(partition: number, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends the lease by `ttlMs` if it is still this grant (owner and token); false = lost. */
  renew(lease: Lease, ttlMs: number): Promise<boolean>;
  /** renew() for many leases in one round trip; results in the order given. */
  renewMany(leases: readonly Lease[], ttlMs: number): Promise<boolean[]>;
  /** Deletes the lease if it is still this grant; a lease already lost is left alone. */
  release(lease: Lease): Promise<void>;
  current(partition: number): Promise<LeaseHolder | null>;
  /** The holders of those of `partitions` that are held, in one round trip. */
  listAll(partitions: readonly number[]): Promise<Map<number, LeaseHolder>>;
}

/**
 * Durable, strictly increasing tokens per partition (FencingTokenMinter in DynamoDB). Kept as a
 * narrow port here so the lease store can be tested with a minter that stalls on purpose.
 */
export interface TokenMinter {
  mint(partition: number, owner: string): Promise<number>;
}
