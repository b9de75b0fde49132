import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GRPCDeadlineExceededError, GRPCUnavailableError, GRPCUnknownError, EtcdError } from 'etcd3';
import { DatastoreUnavailableError, unavailableCause } from './errors.ts';

test('etcd client failures that mean "no quorum" become DatastoreUnavailableError', () => {
  const refused = unavailableCause(new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379. Resolution note: '));
  assert.ok(refused instanceof DatastoreUnavailableError);
  assert.equal(refused.message, 'etcd datastore unavailable: no connection: connect ECONNREFUSED 127.0.0.1:2379. (check that a majority of the --datastore-endpoint members is running)');
  assert.equal(refused.timeout, false);
  const timedOut = unavailableCause(new EtcdError('etcdserver: request timed out'));
  assert.equal(timedOut?.timeout, true);
  assert.match(timedOut!.message, /^etcd datastore unavailable: etcdserver: request timed out \(check/);
  assert.equal(unavailableCause(new GRPCUnknownError('2 UNKNOWN: context deadline exceeded'))?.timeout, true);
  assert.equal(unavailableCause(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'))?.timeout, true);
  assert.equal(unavailableCause(new EtcdError('etcdserver: no leader'))?.timeout, false);
  class BrokenCircuitError extends Error {}
  assert.match(unavailableCause(new BrokenCircuitError('Execution prevented because the circuit breaker is open'))!.message, /no etcd member is answering/);
});

test('other failures pass through', () => {
  assert.equal(unavailableCause(new EtcdError('etcdserver: mvcc: required revision has been compacted')), undefined);
  assert.equal(unavailableCause(new Error('key exists')), undefined);
  assert.equal(unavailableCause('text'), undefined);
});
