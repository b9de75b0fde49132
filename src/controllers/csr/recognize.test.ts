import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notNodeClient, notKubeletServing, signerRefusal, NODE_CLIENT_SIGNER, CLIENT_SIGNER } from './recognize.ts';
import type { ParsedRequest } from '../../apiserver/certificates/x509.ts';

const req = (o: Partial<ParsedRequest>): ParsedRequest => ({
  commonName: 'system:node:a', organizations: ['system:nodes'], dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [], signatureValid: true, keyAlgorithm: 'ECDSA', ...o,
});

test('node client requests: exactly O=system:nodes, CN=system:node:<name>, no SANs, client usages', () => {
  assert.equal(notNodeClient(req({}), ['digital signature', 'client auth']), undefined);
  assert.match(notNodeClient(req({ organizations: ['system:nodes', 'system:masters'] }), ['client auth'])!, /organization must be exactly/);
  assert.match(notNodeClient(req({ commonName: 'admin' }), ['client auth'])!, /common name must begin with "system:node:"/);
  assert.match(notNodeClient(req({ dnsNames: ['a'] }), ['client auth'])!, /subjectAltNames are not allowed/);
  assert.match(notNodeClient(req({}), ['client auth', 'server auth'])!, /usages not allowed: server auth/);
  assert.match(notNodeClient(req({}), ['digital signature'])!, /missing required usage: client auth/);
});

test('serving requests need a name; signers refuse requests not signed by their key', () => {
  assert.equal(notKubeletServing(req({ ipAddresses: ['10.0.0.1'] }), ['digital signature', 'server auth']), undefined);
  assert.match(notKubeletServing(req({}), ['server auth'])!, /at least one DNS or IP/);
  assert.match(signerRefusal(NODE_CLIENT_SIGNER, req({ signatureValid: false }), ['client auth'])!, /not signed by the key/);
  assert.equal(signerRefusal(CLIENT_SIGNER, req({ commonName: 'jane', organizations: [] }), ['client auth']), undefined);
  assert.match(signerRefusal('example.com/x', req({}), ['client auth'])!, /unknown signer/);
});
