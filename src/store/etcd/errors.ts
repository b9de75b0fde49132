// What the etcd client's failures mean to the rest of skiff. When etcd cannot answer
// (the members we can reach have lost quorum, none is reachable, or a request ran past
// its deadline) every store call fails fast with one DatastoreUnavailableError, which the
// API server answers as 503/504 with a message that says what to check — instead of a 500
// carrying a gRPC stack, or a request that hangs.
import { StoreError } from '../types.ts';

export class DatastoreUnavailableError extends StoreError {
  /** `timeout`: the request ran past its deadline (it may or may not have been applied). */
  constructor(readonly cause: string, readonly timeout: boolean) {
    super(`etcd datastore unavailable: ${cause} (check that a majority of the --datastore-endpoint members is running)`);
  }
}

// etcd's own wording for "no quorum": a proposal or linearizable read that found no
// leader or timed out waiting for one, and gRPC's for a member that is not there.
const NO_QUORUM = /no leader|request timed out|leader changed|context deadline exceeded|timed out|too many requests|not capable|ECONNREFUSED|no connection|connection (reset|closed)|Connection dropped/i;
const TIMEOUT = /deadline exceeded|timed out/i;

/** The DatastoreUnavailableError an etcd client failure means, or undefined for any other error. */
export function unavailableCause(err: unknown): DatastoreUnavailableError | undefined {
  if (err instanceof DatastoreUnavailableError) return err;
  if (!(err instanceof Error)) return undefined;
  const message = clean(err.message);
  // (cockatiel's, etcd3's retry library: every member's circuit breaker is open)
  if (err.constructor.name === 'BrokenCircuitError' || /circuit breaker is open/.test(message)) {
    return new DatastoreUnavailableError('no etcd member is answering', false);
  }
  if (isA(err, 'GRPCDeadlineExceededError')) return new DatastoreUnavailableError(message || 'request timed out', true);
  if (isA(err, 'GRPCUnavailableError') || NO_QUORUM.test(message)) {
    return new DatastoreUnavailableError(message, TIMEOUT.test(message));
  }
  return undefined;
}

/**
 * `err instanceof <etcd3's class called name>`, by class name: importing etcd3 here would
 * load it and gRPC (~10 MB) into every server, as the API server imports this module;
 * etcd3 is loaded only with the etcd store.
 */
function isA(err: Error, name: string): boolean {
  for (let p = Object.getPrototypeOf(err); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    if (p.constructor?.name === name) return true;
  }
  return false;
}

/** gRPC's message without its code prefix and resolver notes: "connect ECONNREFUSED 127.0.0.1:2379". */
function clean(message: string): string {
  return message.split('\n')[0]!
    .replace(/^\w*Error:\s*/, '')
    .replace(/^\d+ [A-Z_]+:\s*/, '')
    .replace(/\s*Resolution note:.*$/, '')
    .replace(/^No connection established\. Last error: (Error: )?/, 'no connection: ')
    .trim();
}
