// Which CA to trust, k3s-style: a K10 join token carries the sha256 of the cluster CA's
// PEM, so an agent with only the URL and the token can take the CA the server presents
// in its TLS handshake — after checking it against that hash. (k3s fetches /cacerts;
// we read the chain the handshake already carries.) The HttpClient then verifies the
// server against this CA as usual.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';

const K10 = /^K10([0-9a-f]{64})::/;

export function tokenCaHash(token: string): string | undefined {
  return K10.exec(token.trim())?.[1];
}

export function pemOf(der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The certificates the server presents, leaf first. */
export async function peerChain(serverUrl: string, timeoutMs = 10_000): Promise<Buffer[]> {
  const u = new URL(serverUrl);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port: Number(u.port || 443), rejectUnauthorized: false, servername: net.isIP(host) ? undefined : host });
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no TLS handshake with ${serverUrl} in ${timeoutMs} ms`)));
    sock.once('error', reject);
    sock.once('secureConnect', () => {
      const chain: Buffer[] = [];
      const seen = new Set<string>();
      let c: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        chain.push(c.raw);
        c = c.issuerCertificate;
      }
      sock.end();
      resolve(chain);
    });
  });
}

/** The CA from the handshake whose PEM hashes to the token's; throws if none does. */
export async function caFromToken(serverUrl: string, token: string): Promise<string> {
  const want = tokenCaHash(token);
  if (!want) throw new Error('the token carries no CA hash (not K10...::user:secret): pass --ca-file');
  const chain = await peerChain(serverUrl);
  for (const der of chain) {
    const pem = pemOf(der);
    if (sha256(pem) !== want) continue;
    if (!new X509Certificate(der).ca) break;
    return pem;
  }
  throw new Error(`the server at ${serverUrl} presented no CA matching the token's hash: wrong server or token (or pass --ca-file)`);
}

/** --ca-file, else <data-dir>/tls/ca.crt, else the token's CA from the handshake. */
export async function resolveCa(opts: { server: string; token: string; caFile?: string; dataDir?: string }): Promise<string> {
  if (opts.caFile) return readFileSync(opts.caFile, 'utf8');
  if (opts.dataDir) return readFileSync(path.join(opts.dataDir, 'tls', 'ca.crt'), 'utf8');
  return caFromToken(opts.server, opts.token);
}
