// `skiff server` flags (k3s names where k3s has one) → ServerConfig → runServer.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { runServer, type ServerConfig } from '../server/run.ts';
import { defaultDataDir, parseDuration, parsePort } from './flags.ts';
import type { Level } from '../util/log.ts';
import { isServiceIP, kubernetesServiceIP, parseServiceCidr } from '../apiserver/registry/service-ips.ts';

const HELP = `usage: skiff server [flags]

  --data-dir DIR              state, certificates, kubeconfig (default /var/lib/skiff as root, else ~/.skiff)
  --https-listen-port PORT    API server port (default 6443; 0 picks a free one)
  --bind-address ADDR         address to listen on (default 0.0.0.0)
  --advertise-address IP      address pods reach the API at through the kubernetes Service (default: the node IP)
  --datastore-endpoint URL    empty: embedded SQLite in DIR/db; http(s)://host:2379,...: etcd
  --datastore-cafile FILE     CA bundle to verify etcd's certificate (https endpoints)
  --datastore-certfile FILE   client certificate for etcd
  --datastore-keyfile FILE    client key for etcd
  --token TOKEN               join token secret (default: generated, written to DIR/token); a server joining
                              a shared datastore needs the cluster's token (the first server's DIR/token)
  --server URL                join the cluster this server serves (needs --datastore-endpoint and --token; see docs/ha.md)
  --node-name NAME            this node's name (default: the host name)
  --cluster-cidr CIDR         pod network (default 10.42.0.0/16)
  --service-cidr CIDR         service network (default 10.43.0.0/16)
  --cluster-dns IP            cluster DNS address (default 10.43.0.10)
  --tls-san NAME              extra name or IP for the serving certificate (repeatable)
  --disable-agent             do not run a node agent on this machine
  --node-ip IP                this node's address (default: the first non-loopback IPv4)
  --kubelet-port PORT         the agent's log/exec server (default 10250; 0 picks a free one)
  --ingress-http-port PORT    the agent's Ingress controller (class skiff) listens here (default 80; 0 turns it off)
  --private-registry FILE     registries.yaml: mirrors and plain-HTTP registries (default DIR/registries.yaml)
  --node-monitor-grace-period D  how long a node may miss heartbeats before it is NotReady (default 40s)
  --token-auth-file FILE      static bearer tokens: CSV lines token,user,uid[,"group1,group2"]
  --audit-policy-file FILE    audit policy (audit.k8s.io/v1 Policy, YAML or JSON); needs --audit-log-path
  --audit-log-path FILE       where audit events go as JSON lines ('-' for stdout)
  --secrets-encryption        encrypt Secrets at rest (keys in DIR/cred/encryption-config.json; see 'skiff secrets-encrypt')
  --max-requests-inflight N   reads served at once before 429 (default 400; 0: no bound)
  --max-mutating-requests-inflight N  writes served at once before 429 (default 200; 0: no bound)
  --log-level LEVEL           debug, info, warn (default), error`;

export function parseServerFlags(args: string[]): ServerConfig | 'help' {
  const { values } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: {
      'data-dir': { type: 'string' },
      'https-listen-port': { type: 'string' },
      'bind-address': { type: 'string' },
      'advertise-address': { type: 'string' },
      'datastore-endpoint': { type: 'string' },
      'datastore-cafile': { type: 'string' },
      'datastore-certfile': { type: 'string' },
      'datastore-keyfile': { type: 'string' },
      token: { type: 'string' },
      server: { type: 'string' },
      'node-name': { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'service-cidr': { type: 'string' },
      'cluster-dns': { type: 'string' },
      'tls-san': { type: 'string', multiple: true },
      'disable-agent': { type: 'boolean' },
      'node-ip': { type: 'string' },
      'kubelet-port': { type: 'string' },
      'ingress-http-port': { type: 'string' },
      'private-registry': { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      'secrets-encryption': { type: 'boolean' },
      'token-auth-file': { type: 'string' },
      'audit-policy-file': { type: 'string' },
      'audit-log-path': { type: 'string' },
      'max-requests-inflight': { type: 'string' },
      'max-mutating-requests-inflight': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const port = Number(values['https-listen-port'] ?? 6443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--https-listen-port: invalid port ${values['https-listen-port']}`);
  const level = (values['log-level'] ?? 'warn') as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error(`--log-level: must be debug, info, warn or error`);
  const serviceCidr = values['service-cidr'] ?? '10.43.0.0/16';
  const clusterDns = values['cluster-dns'] ?? '10.43.0.10';
  checkClusterDns(clusterDns, serviceCidr);
  return {
    dataDir: values['data-dir'] ?? defaultDataDir(),
    httpsListenPort: port,
    bindAddress: values['bind-address'] ?? '0.0.0.0',
    advertiseAddress: values['advertise-address'],
    datastoreEndpoint: values['datastore-endpoint'],
    datastoreTls: { caFile: values['datastore-cafile'], certFile: values['datastore-certfile'], keyFile: values['datastore-keyfile'] },
    token: values.token,
    joinServer: values.server,
    nodeName: values['node-name'] ?? os.hostname(),
    clusterCidr: values['cluster-cidr'] ?? '10.42.0.0/16',
    serviceCidr,
    clusterDns,
    disableAgent: values['disable-agent'] ?? false,
    nodeIP: values['node-ip'],
    kubeletPort: parsePort('--kubelet-port', values['kubelet-port'] ?? '10250'),
    ingressHttpPort: parsePort('--ingress-http-port', values['ingress-http-port'] ?? '80'),
    privateRegistry: values['private-registry'],
    tlsSans: values['tls-san'] ?? [],
    nodeMonitorGracePeriodMs: parseDuration('--node-monitor-grace-period', values['node-monitor-grace-period'] ?? '40s'),
    logLevel: level,
    secretsEncryption: values['secrets-encryption'] ?? false,
    tokenAuthFile: values['token-auth-file'],
    auditPolicyFile: values['audit-policy-file'],
    auditLogPath: values['audit-log-path'],
    maxRequestsInflight: count('--max-requests-inflight', values['max-requests-inflight'], 400),
    maxMutatingRequestsInflight: count('--max-mutating-requests-inflight', values['max-mutating-requests-inflight'], 200),
  };
}

function count(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new Error(`${flag}: expected a whole number, not ${text}`);
  return n;
}

/** The cluster DNS address is a Service IP: inside the service CIDR, and not the `kubernetes` Service's. */
function checkClusterDns(dns: string, cidr: string): void {
  let range;
  try {
    range = parseServiceCidr(cidr);
  } catch (err) {
    throw new Error(`--service-cidr: ${(err as Error).message}`);
  }
  if (!isServiceIP(range, dns)) throw new Error(`--cluster-dns ${dns} must be an address inside --service-cidr ${range.text}`);
  if (dns === kubernetesServiceIP(range)) throw new Error(`--cluster-dns ${dns} is the kubernetes Service's address (the first of ${range.text}); pick another, e.g. the tenth`);
}

export async function serverCommand(args: string[]): Promise<number> {
  const config = parseServerFlags(args);
  if (config === 'help') { console.log(HELP); return 0; }
  const started = performance.now();
  const server = await runServer(config);
  console.log(`skiff server ready at ${server.url} in ${Math.round(performance.now() - started)} ms; export KUBECONFIG=${server.kubeconfigPath}`);
  if (!config.disableAgent) {
    // The API is up and answering; the local node joins it like any other agent would.
    server.startAgent((line) => console.log(`skiff agent: ${line}`)).catch((err) => {
      console.error(`skiff agent: not started: ${(err as Error).message}`);
    });
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.stop();
  return 0;
}
