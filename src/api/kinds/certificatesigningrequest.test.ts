import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyAndRequest } from '../../apiserver/certificates/x509.ts';
import { strategyFor } from './index.ts';
import { setRequestor, wellFormedCsrDer } from './certificatesigningrequest.ts';
import type { KObject } from '../object.ts';

const strategy = strategyFor('certificates.k8s.io', 'CertificateSigningRequest');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const csr = (spec: Record<string, unknown>, status?: Record<string, unknown>): KObject => ({
  apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'r' }, spec, ...(status ? { status } : {}),
});
const fields = (o: KObject) => strategy.validate!(o).map((e) => `${e.field}: ${e.message}`);

test('create: a PEM PKCS#10 request, a qualified signer, known usages, at least 10 minutes', async () => {
  const { requestPem } = await createKeyAndRequest({ commonName: 'x', organizations: [] });
  const good = { request: b64(requestPem), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] };
  assert.deepEqual(fields(csr(good)), []);
  assert.deepEqual(fields(csr({ ...good, request: undefined })), ['spec.request: Required value']);
  assert.match(fields(csr({ ...good, request: b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') }))[0]!, /^spec.request: Invalid value: \[\]byte\{0x2d.*PEM block type must be CERTIFICATE REQUEST$/);
  assert.match(fields(csr({ ...good, request: b64('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n') }))[0]!, /asn1: structure error/);
  assert.deepEqual(fields(csr({ ...good, signerName: 'nodomain' })), ['spec.signerName: Invalid value: "nodomain": must be a fully qualified domain and path of the form \'example.com/signer-name\'']);
  assert.deepEqual(fields(csr({ ...good, usages: [] })), ['spec.usages: Required value']);
  assert.match(fields(csr({ ...good, usages: ['client auth', 'client auth'] }))[0]!, /^spec.usages\[1\]: Duplicate value: "client auth"$/);
  assert.match(fields(csr({ ...good, expirationSeconds: 60 }))[0]!, /may not specify a duration less than 600 seconds/);
  assert.equal(wellFormedCsrDer(Buffer.from([0x30, 0x00])), false);
});

test('the requestor comes from the server; approval and certificates only move forward', async () => {
  const { requestPem } = await createKeyAndRequest({ commonName: 'x', organizations: [] });
  const spec = { request: b64(requestPem), signerName: 'example.com/s', usages: ['client auth'], username: 'forged', groups: ['system:masters'] };
  const created = csr({ ...spec });
  setRequestor(created, { name: 'bob', groups: ['devs', 'system:authenticated'] });
  assert.equal((created.spec as Record<string, unknown>).username, 'bob');
  assert.deepEqual((created.spec as Record<string, unknown>).groups, ['devs', 'system:authenticated']);

  const approved = csr(created.spec as Record<string, unknown>, { conditions: [{ type: 'Approved', status: 'True', reason: 'R' }] });
  const denied = csr(created.spec as Record<string, unknown>, { conditions: [{ type: 'Denied', status: 'True' }] });
  const upd = (next: KObject, old: KObject) => { strategy.prepareForUpdate!(next, old); return [...strategy.validate!(next), ...strategy.validateUpdate!(next, old)].map((e) => `${e.field}: ${e.message}`); };
  assert.deepEqual(upd(structuredClone(created), approved), ['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
  const both = csr(created.spec as Record<string, unknown>, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] });
  assert.match(upd(both, approved).join('\n'), /Approved and Denied conditions are mutually exclusive/);
  const issued = csr(created.spec as Record<string, unknown>, { certificate: b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n') });
  assert.match(upd(structuredClone(issued), created).join('\n'), /certificate issuance requires an Approved condition/);
  assert.deepEqual(upd(csr(created.spec as Record<string, unknown>, { ...approved.status as object, certificate: (issued.status as Record<string, unknown>).certificate }), approved), []);
  // The spec cannot change after create.
  const changed = csr({ ...(created.spec as object), signerName: 'example.com/other' }, approved.status as Record<string, unknown>);
  upd(changed, approved);
  assert.equal((changed.spec as Record<string, unknown>).signerName, 'example.com/s');
  assert.ok(denied);
});
