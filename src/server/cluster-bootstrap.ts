// Several servers on one etcd share one cluster identity through the datastore (k3s's
// bootstrap key): the first server seals its CA, service-account signing key and
// secrets-encryption keys with the join token's secret and stores them with a
// create-if-absent write; every later server (or a restart) needs the token, unseals them
// and writes them into its own data dir before issuing its own serving certificate and
// admin kubeconfig from the shared CA. Two servers seeding an empty etcd at once: one
// create wins, the other re-reads and joins. The embedded SQLite store is one server's
// alone, so there is nothing to share there. `skiff secrets-encrypt rotate-keys` on etcd
// rewrites the keys in the bootstrap data (bootstrap-encryption.ts); each server installs
// them from here at its next start.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { join } from 'node:path';
import type { Store } from '../store/types.ts';
import { KeyExistsError, RevisionConflictError } from '../store/types.ts';
import { openBootstrapData, sealBootstrapData, WrongTokenError, type BootstrapData } from '../apiserver/pki/bootstrap-data.ts';
import { ensureCertificateAuthority, installCertificateAuthority } from '../apiserver/pki/credentials.ts';
import { ensureServiceAccountKey, SERVICE_ACCOUNT_KEY_FILE } from '../apiserver/pki/service-account-key.ts';
import { caCertHash, parseJoinToken, randomJoinSecret } from '../apiserver/pki/join-token.ts';
import { readFileIfExists, writeFileAtomic } from '../apiserver/pki/atomic-file.ts';
import { encryptionConfigPath, ensureConfig, parseConfig } from '../store/encryption/config.ts';
import type { Logger } from '../util/log.ts';

/** Outside /registry/: no API resource, watch cache or encryption prefix touches it. */
export const BOOTSTRAP_KEY = '/skiff/bootstrap';

export interface ShareOptions {
  dataDir: string;
  /** --token: a bare secret or a full K10 token. */
  token?: string;
  /** --server: informational here (the datastore is the source), checked against the token. */
  joinServer?: string;
  secretsEncryption: boolean;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
  log: Logger;
}

export interface SharedCluster {
  /** The join token secret every server of this cluster accepts. */
  secret: string;
  /** True when the cluster encrypts Secrets (this server must too, with the shared keys). */
  secretsEncryption: boolean;
  /** Whether this server created the bootstrap data (the first server). */
  seeded: boolean;
}

/** A configuration or token problem the operator must fix; the server exits non-zero. */
export class ClusterJoinError extends Error {}

const secretOf = (text: string | undefined): string | undefined => (text?.trim() ? parseJoinToken(text).password : undefined);

/** Seeds the shared datastore with this server's cluster identity, or joins the one stored there. */
export async function shareClusterBootstrap(store: Store, opts: ShareOptions): Promise<SharedCluster> {
  const storedToken = await readFileIfExists(join(opts.dataDir, 'token'));
  // --token wins over the data dir's token (as ensureClusterCredentials does).
  const given = secretOf(opts.token) ?? secretOf(storedToken);
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await store.get(BOOTSTRAP_KEY);
    if (existing) return join_(store, existing.value, existing.modRevision, given, opts);
    if (opts.joinServer && attempt === 0) {
      // Told to join, yet nothing to join: most likely another etcd than the first server's.
      throw new ClusterJoinError(`--server ${opts.joinServer}: the datastore holds no cluster to join (no bootstrap data); give the same --datastore-endpoint as that server's, or leave out --server to start a new cluster`);
    }
    // Empty datastore: this server founds the cluster from its own (possibly new) credentials.
    const secret = given ?? randomJoinSecret();
    const data = await localBootstrapData(opts);
    try {
      await store.create(BOOTSTRAP_KEY, await sealBootstrapData(data, secret));
      opts.log.info('stored the cluster bootstrap data in the datastore (first server)');
      return { secret, secretsEncryption: !!data.encryptionConfig, seeded: true };
    } catch (err) {
      if (!(err instanceof KeyExistsError)) throw err;
      // Another server seeded it first: join that one (with our token, which must match).
    }
  }
  throw new Error('could not read or write the cluster bootstrap data in the datastore');
}

async function localBootstrapData(opts: ShareOptions): Promise<BootstrapData> {
  const ca = await ensureCertificateAuthority(opts.dataDir);
  const serviceAccountKeyPem = await ensureServiceAccountKey(join(opts.dataDir, 'tls'));
  let encryptionConfig: string | undefined;
  if (opts.secretsEncryption) {
    ensureConfig(opts.dataDir);
    encryptionConfig = readFileSync(encryptionConfigPath(opts.dataDir), 'utf8');
  }
  return {
    caCertPem: ca.certPem, caKeyPem: ca.keyPem, serviceAccountKeyPem, encryptionConfig,
    clusterCidr: opts.clusterCidr, serviceCidr: opts.serviceCidr, clusterDns: opts.clusterDns,
  };
}

async function join_(store: Store, sealed: string, revision: number, secret: string | undefined, opts: ShareOptions): Promise<SharedCluster> {
  if (!secret) {
    throw new ClusterJoinError('the datastore already holds a cluster (bootstrap data from its first server): start this server with --token <the token in the first server\'s DATA_DIR/token>');
  }
  let data: BootstrapData;
  try {
    data = await openBootstrapData(sealed, secret);
  } catch (err) {
    if (err instanceof WrongTokenError) {
      throw new ClusterJoinError('the token does not match the cluster\'s bootstrap data in the datastore: use the token of the cluster this datastore belongs to (its first server\'s DATA_DIR/token)');
    }
    throw err;
  }
  const hash = opts.token ? parseJoinToken(opts.token).caHash : undefined;
  if (hash && hash !== caCertHash(data.caCertPem)) {
    throw new ClusterJoinError('the --token\'s CA hash does not match the cluster CA in the datastore: the token belongs to another cluster');
  }
  for (const [flag, mine, theirs] of [
    ['--cluster-cidr', opts.clusterCidr, data.clusterCidr],
    ['--service-cidr', opts.serviceCidr, data.serviceCidr],
    ['--cluster-dns', opts.clusterDns, data.clusterDns],
  ] as const) {
    if (mine !== theirs) throw new ClusterJoinError(`${flag} ${mine} differs from the cluster's ${theirs} (in the datastore): every server must use the same value`);
  }
  if (!data.encryptionConfig && opts.secretsEncryption) {
    // The cluster ran without encryption so far: this server brings the keys for everyone.
    const withKeys = { ...data, encryptionConfig: (ensureConfig(opts.dataDir), readFileSync(encryptionConfigPath(opts.dataDir), 'utf8')) };
    try {
      await store.update(BOOTSTRAP_KEY, await sealBootstrapData(withKeys, secret), revision);
      data = withKeys;
    } catch (err) {
      if (!(err instanceof RevisionConflictError)) throw err;
      const again = await store.get(BOOTSTRAP_KEY);
      if (!again) throw err;
      return join_(store, again.value, again.modRevision, secret, opts);
    }
  }
  await installSharedFiles(opts.dataDir, data);
  if (data.encryptionConfig && !opts.secretsEncryption) {
    opts.log.warn('the cluster encrypts Secrets (its keys are in the datastore): this server does too, as if started with --secrets-encryption');
  }
  if (opts.joinServer) await checkJoinServer(opts.joinServer, data.caCertPem, opts.log);
  return { secret, secretsEncryption: !!data.encryptionConfig, seeded: false };
}

/** The datastore is the source: the data dir's CA, signing key and encryption keys follow it. */
async function installSharedFiles(dataDir: string, data: BootstrapData): Promise<void> {
  await installCertificateAuthority(dataDir, { certPem: data.caCertPem, keyPem: data.caKeyPem });
  const saPath = join(dataDir, 'tls', SERVICE_ACCOUNT_KEY_FILE);
  if (await readFileIfExists(saPath) !== data.serviceAccountKeyPem) await writeFileAtomic(saPath, data.serviceAccountKeyPem, 0o600);
  if (data.encryptionConfig) {
    const file = encryptionConfigPath(dataDir);
    parseConfig(data.encryptionConfig, 'the cluster bootstrap data');
    if (!existsSync(file) || readFileSync(file, 'utf8') !== data.encryptionConfig) {
      await mkdir(join(dataDir, 'cred'), { recursive: true, mode: 0o700 });
      await writeFileAtomic(file, data.encryptionConfig, 0o600);
    }
  }
}

/**
 * --server names a server of the cluster being joined: it should present a certificate
 * from the datastore's CA. A mismatch (a server of another cluster) or no answer is only
 * a warning: the datastore, not that server, is where the cluster's secrets come from.
 */
async function checkJoinServer(server: string, caPem: string, log: Logger): Promise<void> {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ClusterJoinError(`--server ${server}: not a URL (https://host:port)`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const problem = await new Promise<string | undefined>((resolve) => {
    const sock = connect({ host, port: Number(url.port || 443), ca: caPem, ...(isIP(host) ? {} : { servername: host }) }, () => { sock.end(); resolve(undefined); });
    sock.setTimeout(5000, () => { sock.destroy(); resolve('no answer in 5 s'); });
    sock.on('error', (err) => resolve(err.message));
  });
  if (problem) log.warn('--server does not check out against the cluster CA in the datastore (joining through the datastore anyway)', { server, problem });
  else log.info('joined the cluster through the datastore', { server, ca: caCertHash(caPem).slice(0, 12) });
}
