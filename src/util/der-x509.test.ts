// der-x509 against independent readers: Node's X509Certificate and a real TLS handshake
// for the certificate, @peculiar/x509 (what the server's CSR signer parses requests with)
// and `openssl req -verify` for the request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { createKeyAndRequestLite, createSelfSignedServerCert } from './der-x509.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const hasOpenssl = (() => { try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

function serial(): Buffer {
  const s = randomBytes(16);
  s[0] = (s[0]! & 0x7f) || 1;
  return s;
}

describe('createSelfSignedServerCert', () => {
  const notBefore = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  const notAfter = new Date(Date.UTC(2027, 0, 2, 3, 4, 5));
  const { certPem, keyPem } = createSelfSignedServerCert({
    commonName: 'node-a@1700000000', dnsNames: ['node-a', 'localhost'], ipAddresses: ['127.0.0.1', '10.1.2.3', 'fd00::1'],
    notBefore, notAfter, serial: serial(),
  });

  it('is a v3 server certificate Node reads back: names, validity, usages, self-signature, key', () => {
    const cert = new X509Certificate(certPem);
    assert.equal(cert.subject, 'CN=node-a@1700000000');
    assert.equal(cert.issuer, cert.subject);
    assert.equal(cert.ca, false);
    assert.equal(cert.subjectAltName, 'DNS:node-a, DNS:localhost, IP Address:127.0.0.1, IP Address:10.1.2.3, IP Address:FD00:0:0:0:0:0:0:1');
    assert.equal(new Date(cert.validFrom).getTime(), notBefore.getTime());
    assert.equal(new Date(cert.validTo).getTime(), notAfter.getTime());
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.ok(cert.verify(cert.publicKey), 'self-signature');
    assert.ok(cert.checkPrivateKey(createPrivateKey(keyPem)));
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('parses with @peculiar/x509 too, with critical basicConstraints and keyUsage', async () => {
    const cert = new x509.X509Certificate(certPem);
    assert.ok(await cert.verify({ signatureOnly: true }));
    const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
    assert.equal(bc.ca, false);
    assert.equal(bc.critical, true);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
    assert.equal(ku.critical, true);
  });

  it('serves TLS: a client trusting it connects to "localhost"', async () => {
    const server = https.createServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const body = await new Promise<string>((resolve, reject) => {
        // The certificate's validity (2026-2027) is checked against the clock: skip only that.
        const req = https.get({ host: '127.0.0.1', servername: 'localhost', port, ca: certPem, checkServerIdentity: () => undefined, rejectUnauthorized: false }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(b));
        });
        req.on('error', reject);
      });
      assert.equal(body, 'ok');
      const now = Date.now();
      const live = createSelfSignedServerCert({ commonName: 'n', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], notBefore: new Date(now - 3600_000), notAfter: new Date(now + 3600_000), serial: serial() });
      const strict = https.createServer({ cert: live.certPem, key: live.keyPem }, (_req, res) => res.end('strict'));
      await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
      try {
        const p = (strict.address() as AddressInfo).port;
        const got = await new Promise<string>((resolve, reject) => {
          https.get(`https://localhost:${p}/`, { ca: live.certPem, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) as never }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve(b));
          }).on('error', reject);
        });
        assert.equal(got, 'strict');
      } finally {
        strict.close();
      }
    } finally {
      server.close();
    }
  });

  it('writes GeneralizedTime from 2050 and long names (multi-byte lengths)', () => {
    const cn = 'n'.repeat(300);
    const { certPem: pem } = createSelfSignedServerCert({ commonName: cn, notBefore: new Date(Date.UTC(2049, 11, 31)), notAfter: new Date(Date.UTC(2060, 5, 1, 12)), serial: Buffer.from([0x80, 1]) });
    const cert = new X509Certificate(pem);
    assert.equal(cert.subject, `CN=${cn}`);
    assert.equal(new Date(cert.validTo).toISOString(), '2060-06-01T12:00:00.000Z');
    assert.equal(new Date(cert.validFrom).toISOString(), '2049-12-31T00:00:00.000Z');
    assert.equal(cert.serialNumber, '8001'); // top bit set: a leading 0x00 keeps it positive
    assert.equal(cert.subjectAltName, undefined);
  });

  it('refuses an IP address that is not one', () => {
    assert.throws(() => createSelfSignedServerCert({ commonName: 'x', ipAddresses: ['10.0.0'], notBefore: new Date(), notAfter: new Date(), serial: serial() }), /not an IP address/);
  });
});

describe('createKeyAndRequestLite', () => {
  it('is a request @peculiar/x509 reads as the node CSR: CN, O, names, valid self-signature', async () => {
    const { keyPem, requestPem } = createKeyAndRequestLite({ commonName: 'system:node:node-a', organizations: ['system:nodes'], dnsNames: ['node-a'], ipAddresses: ['10.1.2.3'] });
    const csr = new x509.Pkcs10CertificateRequest(requestPem);
    assert.deepEqual(csr.subjectName.getField('CN'), ['system:node:node-a']);
    assert.deepEqual(csr.subjectName.getField('O'), ['system:nodes']);
    assert.equal(await csr.verify(), true);
    assert.equal(csr.publicKey.algorithm.name, 'ECDSA');
    const san = new x509.SubjectAlternativeNameExtension(csr.extensions.find((e) => e.type === '2.5.29.17')!.rawData);
    assert.deepEqual(san.names.toJSON(), [{ type: 'dns', value: 'node-a' }, { type: 'ip', value: '10.1.2.3' }]);
    // The key is the one the request carries.
    const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    assert.deepEqual(Buffer.from(csr.publicKey.rawData), spki);
  });

  it('a request without names has an empty attribute set, and openssl verifies both kinds', { skip: !hasOpenssl && 'openssl is not installed' }, () => {
    for (const subject of [{ commonName: 'system:node:b', organizations: ['system:nodes'] }, { commonName: 'c', dnsNames: ['c.example'] }]) {
      const { requestPem } = createKeyAndRequestLite(subject);
      const out = execFileSync('openssl', ['req', '-verify', '-noout', '-subject'], { input: requestPem, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
      assert.match(out, new RegExp(`CN\\s*=\\s*${subject.commonName}`));
    }
    const { requestPem } = createKeyAndRequestLite({ commonName: 'system:node:b', organizations: ['system:nodes'] });
    assert.equal(new x509.Pkcs10CertificateRequest(requestPem).attributes.length, 0);
  });
});
