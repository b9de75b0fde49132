// Other users for a test server: a client certificate for any user and groups, signed by the
// cluster's CA (in its data dir), as a kubeconfig for kubectl and an HTTPS agent for requests.
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { issueClientCertificate } from '../../src/apiserver/pki/issue-certificates.ts';
import type { HttpResult, TestServer } from './cluster.ts';

export interface TestUser {
  kubeconfig: string;
  /** kubectl as this user. */
  kubectl(args: string[], o?: { input?: string }): ReturnType<TestServer['kubectl']>;
  request(method: string, p: string, body?: unknown): Promise<HttpResult>;
  close(): void;
}

/** Wraps a kubeconfig `user` entry (certificate or token) as a TestUser of `s`. */
export function asUser(s: TestServer, name: string, user: { 'client-certificate-data'?: string; 'client-key-data'?: string; token?: string }): TestUser {
  const kc = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
  const file = path.join(s.dataDir, `${name.replace(/[^a-zA-Z0-9-]/g, '_')}.kubeconfig`);
  writeFileSync(file, YAML.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'u',
    clusters: [{ name: 'skiff', cluster: kc.clusters[0].cluster }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'u', context: { cluster: 'skiff', user: 'u', namespace: 'default' } }],
  }), { mode: 0o600 });
  const ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64');
  const agent = new https.Agent({
    ca, keepAlive: true,
    ...(user['client-certificate-data'] ? { cert: Buffer.from(user['client-certificate-data'], 'base64'), key: Buffer.from(user['client-key-data']!, 'base64') } : {}),
  });
  const headers: Record<string, string> = user.token ? { Authorization: `Bearer ${user.token}` } : {};
  return {
    kubeconfig: file,
    kubectl: (args, o = {}) => s.kubectl(args, { ...o, env: { KUBECONFIG: file } }),
    request: (method, p, body) => new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(s.url + p, { method, agent, headers: { ...headers, ...(text ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
        let out = '';
        res.setEncoding('utf8').on('data', (d) => { out += d; });
        res.on('end', () => {
          let json: any;
          try { json = JSON.parse(out); } catch { json = undefined; }
          resolve({ status: res.statusCode!, headers: res.headers, text: out, json });
        });
      });
      req.on('error', reject);
      req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${p} got no answer in 15 s`)));
      req.end(text);
    }),
    close: () => agent.destroy(),
  };
}

/** A user authenticated by a client certificate the cluster CA signed (CN = name, O = groups). */
export async function certificateUser(s: TestServer, name: string, groups: string[] = []): Promise<TestUser> {
  const tls = path.join(s.dataDir, 'tls');
  const ca = { certPem: readFileSync(path.join(tls, 'ca.crt'), 'utf8'), keyPem: readFileSync(path.join(tls, 'ca.key'), 'utf8') };
  const { certPem, keyPem } = await issueClientCertificate(ca, name, groups, new Date());
  return asUser(s, name, { 'client-certificate-data': Buffer.from(certPem).toString('base64'), 'client-key-data': Buffer.from(keyPem).toString('base64') });
}
