// Reads a kubeconfig's current context into HttpClient options: the server, the CA and
// the user's credentials (client certificate or bearer token), inline or from files.
// Several servers of one cluster (our client fails over between them): the cluster's
// `server` plus those of a `skiff.io/servers` cluster extension, which kubectl carries
// and ignores; a comma list in `server` works for our client but not for kubectl.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { splitServers } from './failover.ts';

/** The cluster extension listing more servers of the same cluster. */
export const SERVERS_EXTENSION = 'skiff.io/servers';

export interface KubeconfigCredentials {
  /** The first server. */
  server: string;
  /** Every server of the cluster, the first one first (one entry for most kubeconfigs). */
  servers: string[];
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecureSkipTLSVerify?: boolean;
}

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }
type Fields = Record<string, string | boolean | undefined>;

export function loadKubeconfig(file: string, contextName?: string): KubeconfigCredentials {
  return parseKubeconfig(readFileSync(file, 'utf8'), path.dirname(file), contextName);
}

/** `baseDir` resolves relative file paths, as kubectl resolves them against the file's folder. */
export function parseKubeconfig(text: string, baseDir: string, contextName?: string): KubeconfigCredentials {
  const kc = (YAML.parse(text) ?? {}) as {
    clusters?: Named<Fields>[]; users?: Named<Fields>[]; contexts?: Named<Fields>[]; 'current-context'?: string;
  };
  const wanted = contextName ?? kc['current-context'];
  const context = (kc.contexts ?? []).find((c) => c.name === wanted)?.context ?? (kc.contexts?.[0]?.context);
  const cluster = pick(kc.clusters, context?.cluster, 'cluster');
  const user = pick(kc.users, context?.user, 'user') ?? {};
  if (!cluster || typeof cluster.server !== 'string') throw new Error('kubeconfig: no cluster with a server for the current context');

  const bytes = (dataKey: string, fileKey: string): Buffer | undefined => {
    const data = cluster[dataKey] ?? user[dataKey];
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    const file = cluster[fileKey] ?? user[fileKey];
    if (typeof file === 'string') return readFileSync(path.resolve(baseDir, file));
    return undefined;
  };
  const tokenFile = user.tokenFile;
  const token = typeof user.token === 'string' ? user.token
    : typeof tokenFile === 'string' ? readFileSync(path.resolve(baseDir, tokenFile), 'utf8').trim() : undefined;
  const servers = splitServers([cluster.server, ...extensionServers(cluster.extensions)]);
  return {
    server: servers[0] ?? cluster.server,
    servers,
    ca: bytes('certificate-authority-data', 'certificate-authority'),
    cert: bytes('client-certificate-data', 'client-certificate'),
    key: bytes('client-key-data', 'client-key'),
    token,
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true || undefined,
  };
}

/** `extensions: [{ name: skiff.io/servers, extension: { servers: [url, …] } }]` */
function extensionServers(extensions: unknown): string[] {
  if (!Array.isArray(extensions)) return [];
  const ext = extensions.find((e) => (e as { name?: unknown })?.name === SERVERS_EXTENSION) as { extension?: { servers?: unknown } } | undefined;
  const list = ext?.extension?.servers;
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
}

function pick(list: Named<Fields>[] | undefined, name: unknown, field: 'cluster' | 'user'): Fields | undefined {
  const entry = (list ?? []).find((e) => e.name === name) ?? (name === undefined ? list?.[0] : undefined);
  return entry?.[field] as Fields | undefined;
}
