// `skiff agent` flags → runAgent: this machine joins a cluster as a node.
// `skiff killall`: stops everything an agent started and removes what it left behind.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { agentDirOf, runAgent } from '../agent/agent.ts';
import { killall } from '../agent/containerd/killall.ts';
import { loadRegistries } from '../agent/containerd/registries-file.ts';
import { resolveCa } from '../agent/sim/ca.ts';
import { firstAnswer, splitServers } from '../client/failover.ts';
import { createLogger, type Level } from '../util/log.ts';
import { defaultDataDir } from './flags.ts';
import { parsePort } from './flags.ts';

const HELP = `usage: skiff agent --server URL[,URL...] --token TOKEN [flags]

Joins this machine to a cluster as a node that runs pods under containerd + runc.

  --server URL              the API server (https://host:6443); several servers of one cluster as a
                            comma list or a repeated flag: the agent fails over between them and
                            learns the others from the cluster (the kubernetes EndpointSlice)
  --token TOKEN             the join token (<server data-dir>/token); --token-file FILE reads it
  --ca-file FILE            the cluster CA (default: the CA the server presents, checked against the token's hash)
  --data-dir DIR            state: containerd, images, pod volumes and logs (default /var/lib/skiff)
  --node-name NAME          this node's name (default: the host name)
  --node-ip IP              this node's address (default: the first non-loopback IPv4)
  --node-label K=V          a label for the Node (repeatable)
  --kubelet-port PORT       the log/exec server (default 10250; 0 picks a free one)
  --ingress-http-port PORT  the Ingress controller (class skiff) listens here (default 80; 0 turns it off)
  --private-registry FILE   registries.yaml: mirrors and plain-HTTP registries (default DIR/registries.yaml)
  --log-level LEVEL         debug, info, warn (default), error

Image archives (OCI or docker-archive tar) dropped into DIR/agent/images/ are imported at start.
Stopping the agent leaves its pods running; 'skiff killall' stops them and cleans up.`;

export async function agentCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: {
      server: { type: 'string', multiple: true }, token: { type: 'string' }, 'token-file': { type: 'string' }, 'ca-file': { type: 'string' },
      'data-dir': { type: 'string' }, 'node-name': { type: 'string' }, 'node-ip': { type: 'string' },
      'node-label': { type: 'string', multiple: true }, 'kubelet-port': { type: 'string' }, 'ingress-http-port': { type: 'string' }, 'private-registry': { type: 'string' },
      'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(HELP); return 0; }
  const server = splitServers(values.server ?? []);
  if (!server.length) throw new Error('--server is required (the API server URL, e.g. https://10.0.0.1:6443)');
  const token = (values.token ?? (values['token-file'] ? readFileSync(values['token-file'], 'utf8') : '')).trim();
  if (!token) throw new Error('--token (or --token-file) is required: the server writes it to <data-dir>/token');
  const level = (values['log-level'] ?? 'warn') as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error('--log-level: must be debug, info, warn or error');
  const labels: Record<string, string> = {};
  for (const l of values['node-label'] ?? []) {
    const i = l.indexOf('=');
    if (i <= 0) throw new Error(`--node-label: expected KEY=VALUE, not ${l}`);
    labels[l.slice(0, i)] = l.slice(i + 1);
  }
  const ingressHttpPort = parsePort('--ingress-http-port', values['ingress-http-port'] ?? '80');
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const caPem = await firstAnswer(server, (s) => resolveCa({ server: s, token, caFile: values['ca-file'] }));
  const agent = await runAgent({
    server, token, caPem, dataDir, nodeName: values['node-name'] ?? os.hostname().toLowerCase(), nodeIP: values['node-ip'],
    kubeletPort: parsePort('--kubelet-port', values['kubelet-port'] ?? '10250'), labels,
    ingressHttpPort,
    registries: await loadRegistries(values['private-registry'] ?? path.join(dataDir, 'registries.yaml'), !!values['private-registry']),
    log: createLogger({ level, component: 'agent' }), progress: (line) => console.log(`skiff agent: ${line}`),
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await agent.stop();
  return 0;
}

const KILLALL_HELP = `usage: skiff killall [--data-dir DIR]

Stops every pod container, shim and the containerd of the agent using DIR (default
/var/lib/skiff), and removes its network namespaces, bridge, NAT rules and mounts.
Stop the agent (or server) first; the cluster's objects are left as they are.`;

export async function killallCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) { console.log(KILLALL_HELP); return 0; }
  if (process.getuid?.() !== 0) throw new Error('killall needs root');
  const report = await killall(agentDirOf(values['data-dir'] ?? defaultDataDir()));
  console.log(`skiff killall: removed ${report.sandboxesRemoved} pod sandboxes, killed ${report.processesKilled} processes and ${report.containerdKilled.length} containerd, ` +
    `unmounted ${report.mountsRemoved}, removed ${report.netnsRemoved.length} network namespaces, ${report.iptablesRulesRemoved} NAT rules${report.bridgeRemoved ? ' and the bridge' : ''}`);
  for (const e of report.errors) console.error(`skiff killall: ${e}`);
  return report.errors.length ? 1 : 0;
}
