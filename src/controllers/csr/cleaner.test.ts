import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteAt, FINISHED_TTL_MS, PENDING_TTL_MS } from './cleaner.ts';
import type { KObject } from '../../api/object.ts';

const at = (iso: string) => Date.parse(iso);
const csr = (status: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'r', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: {}, status,
});

test('pending requests last a day; issued, denied and failed ones an hour after it happened', () => {
  assert.equal(deleteAt(csr()), at('2026-01-01T00:00:00Z') + PENDING_TTL_MS);
  assert.equal(deleteAt(csr({ conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: '2026-01-01T00:10:00Z' }] })), at('2026-01-01T00:00:00Z') + PENDING_TTL_MS, 'approved, not issued yet');
  assert.equal(deleteAt(csr({ conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: '2026-01-01T00:10:00Z' }], certificate: 'Y2VydA==' })), at('2026-01-01T00:10:00Z') + FINISHED_TTL_MS);
  assert.equal(deleteAt(csr({ conditions: [{ type: 'Denied', status: 'True', lastUpdateTime: '2026-01-01T02:00:00Z' }] })), at('2026-01-01T02:00:00Z') + FINISHED_TTL_MS);
  assert.equal(deleteAt(csr({ conditions: [{ type: 'Approved', status: 'True', lastUpdateTime: '2026-01-01T00:10:00Z' }, { type: 'Failed', status: 'True', lastUpdateTime: '2026-01-01T00:20:00Z' }] })), at('2026-01-01T00:20:00Z') + FINISHED_TTL_MS);
});
