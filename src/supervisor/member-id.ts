import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** A member id unique across restarts of one host: a restarted process is a new member. */
export function defaultMemberId(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}
