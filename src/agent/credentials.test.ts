import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCertificateAuthority, issueClientCertificate } from '../apiserver/pki/issue-certificates.ts';
import { staleReason } from './credentials.ts';

test('a stored node certificate is kept only while it is ours, for this node, with a third of its life left', async () => {
  const now = new Date();
  const ca = await createCertificateAuthority(now);
  const other = await createCertificateAuthority(now);
  const mine = await issueClientCertificate(ca, 'system:node:a', ['system:nodes'], now);
  assert.equal(staleReason(mine.certPem, mine.keyPem, ca.certPem, 'a', now.getTime()), undefined);
  assert.equal(staleReason(mine.certPem, mine.keyPem, ca.certPem, 'b', now.getTime()), 'issued for another node');
  assert.equal(staleReason(mine.certPem, mine.keyPem, other.certPem, 'a', now.getTime()), 'not signed by the cluster CA');
  const foreignKey = await issueClientCertificate(ca, 'system:node:a', ['system:nodes'], now);
  assert.equal(staleReason(mine.certPem, foreignKey.keyPem, ca.certPem, 'a', now.getTime()), 'key does not match');
  assert.equal(staleReason(mine.certPem, mine.keyPem, ca.certPem, 'a', now.getTime() + 250 * 86400_000), 'two thirds of its lifetime have passed');
  const admin = await issueClientCertificate(ca, 'system:node:a', ['system:masters'], now);
  assert.equal(staleReason(admin.certPem, admin.keyPem, ca.certPem, 'a', now.getTime()), 'issued for another node');
});
