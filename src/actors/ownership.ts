/**
 * What a partition actor holds while it owns its partition: the fencing token that every
 * checkpoint carries, and a signal that fires the moment ownership is lost.
 */
export interface Ownership {
  readonly partition: number;
  readonly owner: string;
  readonly token: number;
  readonly signal: AbortSignal;
  /** False once the lease may have expired (checked before money is spent). */
  isValid(): boolean;
}
