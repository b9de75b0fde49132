import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCertificateAuthority } from '../pki/issue-certificates.ts';
import { createKeyAndRequest, parseRequest, signRequest } from './x509.ts';

test('a request made for a node parses back and is signed by the CA with its subject and usages', async () => {
  const now = new Date();
  const ca = await createCertificateAuthority(now);
  const { keyPem, requestPem } = await createKeyAndRequest({ commonName: 'system:node:a', organizations: ['system:nodes'], ipAddresses: ['10.0.0.5'], dnsNames: ['a'] });
  assert.match(requestPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
  const parsed = await parseRequest(requestPem);
  assert.equal(parsed.commonName, 'system:node:a');
  assert.deepEqual(parsed.organizations, ['system:nodes']);
  assert.deepEqual(parsed.ipAddresses, ['10.0.0.5']);
  assert.deepEqual(parsed.dnsNames, ['a']);
  assert.equal(parsed.signatureValid, true);
  assert.equal(parsed.keyAlgorithm, 'ECDSA');

  const certPem = await signRequest({ ca, requestPem, usages: ['digital signature', 'client auth'], now, durationMs: 3600_000 });
  const cert = new X509Certificate(certPem);
  const caCert = new X509Certificate(ca.certPem);
  assert.ok(cert.checkIssued(caCert) && cert.verify(caCert.publicKey));
  assert.match(cert.subject, /CN=system:node:a/);
  assert.match(cert.subject, /O=system:nodes/);
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem)));
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  const lifetime = Date.parse(cert.validTo) - Date.now();
  assert.ok(lifetime > 3000_000 && lifetime <= 3600_000, `lifetime ${lifetime}`);
});

test('a request that is not PKCS#10 is refused', async () => {
  await assert.rejects(parseRequest('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'));
});
