// `skiff server`: assembles the store, credentials, registry, API server and the
// controllers that belong with the API, in dependency order.
import path from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';
import { AuditLog } from '../apiserver/audit/log.ts';
import { AuditPolicy } from '../apiserver/audit/policy.ts';
import { openStore } from '../store/index.ts';
import type { DatastoreTls } from '../store/index.ts';
import { EncryptingStore } from '../store/encryption/encrypting-store.ts';
import { Transformer } from '../store/encryption/transformer.ts';
import { ENCRYPTED_PREFIXES, ensureConfig } from '../store/encryption/config.ts';
import type { Store } from '../store/types.ts';
import type { SqliteStore } from '../store/index.ts';
import { ensureClusterCredentials } from '../apiserver/pki/index.ts';
import { ensureKubeletClientCertificate } from '../apiserver/certificates/kubelet-client.ts';
import { createAuthenticator } from '../apiserver/authn/index.ts';
import { readTokenFile } from '../apiserver/authn/token-file.ts';
import { bootstrapTokenAuthenticator } from '../apiserver/authn/bootstrap-token.ts';
import { lookupResource } from '../api/scheme.ts';
import { ServiceAccountTokenIssuer } from '../apiserver/serviceaccount/token-issuer.ts';
import { registryObjectGetter, serviceAccountTokenAuthenticator } from '../apiserver/serviceaccount/authenticator.ts';
import { Registry } from '../apiserver/registry/registry.ts';
import { startApiServer, type ApiServer } from '../apiserver/server.ts';
import { createAuthorization, ensureBootstrapPolicy } from '../apiserver/authz/index.ts';
import { DEFAULT_INFLIGHT } from '../apiserver/http/inflight.ts';
import { MetricsScraper } from '../apiserver/metrics/scraper.ts';
import { InProcessClient } from '../client/inprocess.ts';
import { ensureDefaultNamespaces } from '../controllers/namespace/defaults.ts';
import { ensureKubernetesService } from './kubernetes-service.ts';
import { kubernetesServiceIP } from '../apiserver/registry/service-ips.ts';
import { pickNodeIP } from '../agent/node/machine.ts';
import { ensureClusterNetwork } from './cluster-network.ts';
import { ensureIngressClass } from './ingress-class.ts';
import { shareClusterBootstrap } from './cluster-bootstrap.ts';
import { ApiServerEndpoints } from './apiserver-endpoints.ts';
import { serverIdentity } from './identity.ts';
import { retryConflicts } from './startup.ts';
import { driverFor } from '../store/index.ts';
import { ControllerManager } from '../controllers/manager.ts';
import { builtInControllers } from '../controllers/index.ts';
import { createLogger, type Level } from '../util/log.ts';
import { SKIFF_VERSION } from '../version.ts';
import { runAgent, type RunningAgent } from '../agent/agent.ts';
import { loadRegistries } from '../agent/containerd/registries-file.ts';

const SECRETS = lookupResource('', 'v1', 'secrets')!;

export interface ServerConfig {
  dataDir: string;
  httpsListenPort: number;
  bindAddress: string;
  /** The address the `kubernetes` Service sends pods to (default: the node IP when bound to every address). */
  advertiseAddress?: string;
  datastoreEndpoint?: string;
  /** --server: the server this one joins (k3s's flag); the cluster's secrets come from the shared datastore. */
  joinServer?: string;
  /** --datastore-cafile/-certfile/-keyfile for etcd. */
  datastoreTls?: DatastoreTls;
  token?: string;
  nodeName: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDns: string;
  disableAgent: boolean;
  nodeIP?: string;
  kubeletPort?: number;
  /** The local agent's Ingress controller HTTP port (default 80; 0 turns it off). */
  ingressHttpPort?: number;
  privateRegistry?: string;
  tlsSans: string[];
  logLevel: Level;
  /** Audit policy (audit.k8s.io/v1 Policy) and where events go ('-': stdout). */
  auditPolicyFile?: string;
  auditLogPath?: string;
  /** Static bearer tokens (kube-apiserver's --token-auth-file CSV). */
  tokenAuthFile?: string;
  /** Encrypt Secrets at rest with the keys in DATA_DIR/cred/encryption-config.json. */
  secretsEncryption?: boolean;
  maxRequestsInflight?: number;
  maxMutatingRequestsInflight?: number;
  /** Heartbeats a node may miss before the node lifecycle controller marks it NotReady. */
  nodeMonitorGracePeriodMs?: number;
}

export interface RunningServer {
  url: string;
  kubeconfigPath: string;
  tokenPath: string;
  registry: Registry;
  client: InProcessClient;
  /** Runs this machine's node agent against the server (what --disable-agent turns off). */
  startAgent(progress?: (line: string) => void): Promise<RunningAgent>;
  stop(): Promise<void>;
}

export async function runServer(config: ServerConfig): Promise<RunningServer> {
  const log = createLogger({ level: config.logLevel, component: 'server' });
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  let audit: AuditLog | undefined;
  if (config.auditPolicyFile || config.auditLogPath) {
    if (!config.auditPolicyFile || !config.auditLogPath) throw new Error('--audit-policy-file and --audit-log-path go together');
    audit = new AuditLog(AuditPolicy.parse(readFileSync(config.auditPolicyFile, 'utf8'), config.auditPolicyFile), config.auditLogPath);
  }
  if (config.joinServer && driverFor(config.datastoreEndpoint) === 'sqlite') {
    throw new Error('--server: servers join each other through a shared datastore; the embedded SQLite one belongs to a single server. Start every server with the same --datastore-endpoint (etcd) and --token');
  }
  const rawStore: Store = await openStore({ dataDir: config.dataDir, endpoint: config.datastoreEndpoint, tls: config.datastoreTls });
  // On a shared datastore (etcd) the cluster CA, signing key and encryption keys live there,
  // sealed with the token: the first server stores them, later ones take them (cluster-bootstrap.ts).
  let shared: Awaited<ReturnType<typeof shareClusterBootstrap>> | undefined;
  if (driverFor(config.datastoreEndpoint) !== 'sqlite') {
    try {
      shared = await shareClusterBootstrap(rawStore, {
        dataDir: config.dataDir, token: config.token, joinServer: config.joinServer, secretsEncryption: !!config.secretsEncryption,
        clusterCidr: config.clusterCidr, serviceCidr: config.serviceCidr, clusterDns: config.clusterDns, log,
      });
    } catch (err) {
      await rawStore.close();
      throw err;
    }
  }
  const token = shared?.secret ?? config.token;
  // History is compacted in the background so the database does not grow without bound.
  const compactor = (rawStore as Partial<SqliteStore>).startCompactor?.();
  let store = rawStore;
  if (config.secretsEncryption || shared?.secretsEncryption) {
    try {
      store = new EncryptingStore(rawStore, new Transformer(ensureConfig(config.dataDir)), ENCRYPTED_PREFIXES);
    } catch (err) {
      compactor?.stop();
      await rawStore.close();
      throw err;
    }
  }
  const registry = new Registry(store, { serviceCidr: config.serviceCidr, serviceAccountAdmission: true });
  const client = new InProcessClient(registry);

  const wildcard = config.bindAddress === '0.0.0.0' || config.bindAddress === '::';
  // Local clients (kubeconfig, the local agent) use loopback; pods reach the API through
  // the `kubernetes` Service, which needs an address that is not loopback.
  const localHost = wildcard ? '127.0.0.1' : config.bindAddress;
  const advertiseHost = config.advertiseAddress ?? (wildcard ? pickNodeIP(config.nodeIP) : config.bindAddress);
  const urlFor = (port: number) => `https://${localHost.includes(':') ? `[${localHost}]` : localHost}:${port}`;
  // In-cluster clients connect to the Service IP itself (KUBERNETES_SERVICE_HOST).
  const extraSans = [...config.tlsSans, kubernetesServiceIP(registry.serviceRange), advertiseHost];
  let creds = await ensureClusterCredentials({ dataDir: config.dataDir, serverUrl: urlFor(config.httpsListenPort), extraSans, token });
  const tokens = new Map([
    ...(config.tokenAuthFile ? readTokenFile(config.tokenAuthFile) : []),
    [creds.joinToken, { name: 'system:skiff:join', groups: ['system:bootstrappers', 'system:authenticated'] }],
  ]);
  // Service-account tokens: issued by TokenRequest, checked by the authenticator. Issuer
  // https://kubernetes.default.svc.cluster.local (k3s's); the API's audience is the issuer.
  const tokenIssuer = new ServiceAccountTokenIssuer({ privateKeyPem: creds.serviceAccountKeyPem });
  const serviceAccountTokens = serviceAccountTokenAuthenticator(tokenIssuer, registryObjectGetter(registry), log.child('authn'));

  // Node agents let in only this identity (CN=kube-apiserver-kubelet-client) and admins.
  // Agents' serving certificates are checked against the cluster CA (they get them by CSR, src/agent/credentials.ts).
  const kubeletClient = { ...await ensureKubeletClientCertificate(config.dataDir, { certPem: creds.caCertPem, keyPem: creds.caKeyPem }), caPem: creds.caCertPem };
  // metrics.k8s.io and the HPA controller read node usage from here (scraped on demand, then every 15 s).
  const metrics = new MetricsScraper({ registry, kubeletClient, log: log.child('metrics') });
  // system:masters, then RBAC over the watch cache (authz/); the default policy is made below.
  const authorization = createAuthorization(registry);
  let ready = false;
  let api: ApiServer;
  try {
    api = await startApiServer({
      registry,
      tls: { cert: creds.servingCertPem, key: creds.servingKeyPem, ca: creds.caCertPem },
      authenticate: createAuthenticator({
        caCertPem: creds.caCertPem, tokens, serviceAccountTokens,
        bootstrapTokens: bootstrapTokenAuthenticator((ns, name) => registry.tryGet(SECRETS, ns, name)),
      }),
      tokenIssuer,
      host: config.bindAddress, port: config.httpsListenPort,
      ready: () => ready, log: log.child('apiserver'), skiffVersion: SKIFF_VERSION,
      kubeletClient, metrics, audit, authorization,
      inflight: {
        readOnly: config.maxRequestsInflight ?? DEFAULT_INFLIGHT.readOnly,
        mutating: config.maxMutatingRequestsInflight ?? DEFAULT_INFLIGHT.mutating,
        nodes: DEFAULT_INFLIGHT.nodes,
      },
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  if (config.httpsListenPort === 0) {
    creds = await ensureClusterCredentials({ dataDir: config.dataDir, serverUrl: urlFor(api.port), extraSans, token });
  }

  // Idempotent, and retried when another server starting at once wins a race (startup.ts).
  await retryConflicts('default namespaces', () => ensureDefaultNamespaces(client));
  await retryConflicts('bootstrap RBAC policy', () => ensureBootstrapPolicy(client));
  await retryConflicts('kubernetes Service', () => ensureKubernetesService(client, { range: registry.serviceRange, host: advertiseHost, port: api.port }));
  await retryConflicts('cluster network', () => ensureClusterNetwork(client, { clusterCidr: config.clusterCidr, serviceCidr: config.serviceCidr, clusterDns: config.clusterDns, clusterDomain: 'cluster.local' }));
  await retryConflicts('IngressClass', () => ensureIngressClass(client));
  const identity = await serverIdentity(config.dataDir, config.nodeName);
  // The kubernetes Service's endpoints: every live server (each renews its own Lease).
  const apiEndpoints = new ApiServerEndpoints({ client, identity, host: advertiseHost, port: api.port, log: log.child('apiserver-endpoints') });
  await apiEndpoints.start();
  const controllers = new ControllerManager({
    registry, log: log.child('controllers'), identity, // unique per server, stable: a restart takes its own lease back at once
    config: { clusterCidr: config.clusterCidr, nodeCidrMaskSize: 24, serviceCidr: config.serviceCidr },
    controllers: (registryFor) => builtInControllers(registry, log, { nodeMonitorGracePeriodMs: config.nodeMonitorGracePeriodMs, metrics, caCertPem: creds.caCertPem, registryFor,
      // CSR approval and signing (controllers/csr/): node agents trade the join token for a system:node:<name> certificate.
      csr: { caKeyPem: creds.caKeyPem, authorize: async (a) => (await authorization.authz.authorize(a)).allowed } }),
    authorization, audit, // each controller under its own identity (src/apiserver/authz/bootstrap-controllers.ts)
  });
  await controllers.start();
  ready = true;

  let agent: Promise<RunningAgent> | undefined;
  return {
    url: urlFor(api.port), kubeconfigPath: creds.kubeconfigPath, tokenPath: creds.tokenPath, registry, client,
    startAgent(progress) {
      agent ??= loadRegistries(config.privateRegistry ?? path.join(config.dataDir, 'registries.yaml'), !!config.privateRegistry).then((registries) => runAgent({
        server: urlFor(api.port), token: creds.joinToken, caPem: creds.caCertPem, dataDir: config.dataDir,
        nodeName: config.nodeName, nodeIP: config.nodeIP, kubeletPort: config.kubeletPort ?? 10250,
        ingressHttpPort: config.ingressHttpPort ?? 80, registries,
        log: log.child('agent'), progress,
      }));
      return agent;
    },
    async stop() {
      ready = false;
      if (agent) await agent.then((a) => a.stop(), () => {});
      controllers.stop();
      await apiEndpoints.stop();
      metrics.stop();
      compactor?.stop();
      await api.close();
      authorization.stop();
      await audit?.close();
      registry.watchCache.stop();
      await store.close();
    },
  };
}
