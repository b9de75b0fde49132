// The node agent, assembled in dependency order: the built-in images, containerd (a child
// process we own), the cluster's networks (ConfigMap kube-system/skiff-cluster), the Node
// and its heartbeat, the kubelet server for logs/exec, the pod CIDR → CNI config, the
// node's share of cluster networking (routes, service proxy, DNS, Ingress, NetworkPolicy:
// network/), then the pod manager. `stop()` stops the agent and containerd but
// leaves the pods running; `skiff killall` is what tears everything down.
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { HttpClient } from '../client/http.ts';
import { ensureNodeCredentials, ensureServingCertificate } from './credentials.ts';
import { learnApiServers } from '../client/failover-learn.ts';
import type { ApiClient } from '../client/types.ts';
import { ClientEventRecorder } from '../controllers/events.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { Containerd } from './containerd/process.ts';
import { ensurePodMasquerade } from './containerd/masquerade.ts';
import type { RegistriesConfig } from './containerd/config.ts';
import { ensureBuiltinImages, PAUSE_IMAGE } from './images/builtin.ts';
import { NodeHeartbeat } from './node/heartbeat.ts';
import { pickNodeIP, readMachine } from './node/machine.ts';
import { capacityOf } from './node/node-status.ts';
import { podDeps } from './pods/deps.ts';
import { PodManager } from './pods/manager.ts';
import { ProbeManager } from './probes/manager.ts';
import { MetricsCollector } from './metrics/collector.ts';
import { SharedInformerFactory } from '../client/informer-factory.ts';
import { readClusterConfig } from './network/cluster-config.ts';
import { startNodeNetworking, type NodeNetworkComponent } from './network/index.ts';
import { startKubeletServer, type KubeletServer } from './server/index.ts';

export interface AgentConfig {
  /** One API server or several (failover: src/client/failover.ts); more are learned from the cluster. */
  server: string | string[];
  token: string;
  caPem: string;
  dataDir: string;
  nodeName: string;
  nodeIP?: string;
  /** 0 picks a free port (tests); default 10250. */
  kubeletPort: number;
  /** Where the kubelet server listens (default 0.0.0.0). */
  kubeletHost?: string;
  registries?: RegistriesConfig;
  labels?: Record<string, string>;
  /** The built-in Ingress controller's HTTP port (default 80; 0 turns it off). */
  ingressHttpPort?: number;
  log?: Logger;
  /** Progress lines for the operator ("starting containerd"...). */
  progress?: (line: string) => void;
}

export interface RunningAgent {
  nodeName: string;
  kubeletPort: number;
  containerd: Containerd;
  pods: PodManager;
  stop(): Promise<void>;
}

export function agentDirOf(dataDir: string): string {
  return path.join(dataDir, 'agent');
}

export async function runAgent(config: AgentConfig): Promise<RunningAgent> {
  const log = config.log ?? createLogger({ component: 'agent' });
  const say = config.progress ?? (() => {});
  if (process.getuid?.() !== 0) throw new Error('the node agent runs containers and needs root; run as root, or pass --disable-agent to run the server alone');
  const agentDir = agentDirOf(config.dataDir);
  const imagesDir = path.join(agentDir, 'images');
  mkdirSync(imagesDir, { recursive: true, mode: 0o700 });

  const t0 = performance.now();
  const builtin = await ensureBuiltinImages(path.join(agentDir, 'builtin-images'), { log: (l) => log.info(l) });
  say(`images ready in ${Math.round(performance.now() - t0)} ms`);

  const containerd = new Containerd({ agentDir, pauseImage: PAUSE_IMAGE, registries: config.registries, logger: log });
  containerd.on('exited', (e) => log.warn('containerd exited; restarting it', { code: e.code, signal: e.signal }));
  containerd.on('started', (e) => { if (e.restarts) log.warn('containerd restarted', { restarts: e.restarts }); });
  await containerd.start();
  say(`containerd ready in ${Math.round(performance.now() - t0)} ms`);
  const dropped = readdirSync(imagesDir).filter((f) => /\.(tar|oci|tgz|tar\.gz)$/.test(f)).map((f) => path.join(imagesDir, f));
  await containerd.importImages([...builtin.map((b) => ({ file: b.file, name: b.name, digest: b.digest })), ...dropped]);
  const cri = containerd.client();
  const version = await cri.version();

  // The join token only buys a node certificate; the agent works as system:node:<name> (credentials.ts).
  const nodeCreds = await ensureNodeCredentials({ server: config.server, caPem: config.caPem, token: config.token, agentDir, nodeName: config.nodeName, log: log.child('credentials') });
  say(`node certificate (system:node:${config.nodeName}) ready in ${Math.round(performance.now() - t0)} ms`);
  const http = new HttpClient({ server: config.server, ca: config.caPem, cert: nodeCreds.certPem, key: nodeCreds.keyPem, fieldManager: 'skiff-agent', userAgent: `skiff-agent/${config.nodeName}`, log: log.child('failover') });
  const client: ApiClient & { close?: () => void } = http;
  const stopLearning = learnApiServers(http, { log: log.child('failover') });
  const cluster = await readClusterConfig(client);
  const machine = readMachine(agentDir);
  const nodeIP = pickNodeIP(config.nodeIP);
  const events = new ClientEventRecorder(client.resource('', 'v1', 'events'), { component: 'kubelet', host: config.nodeName }, log);

  let pods: PodManager | undefined;
  const probes = new ProbeManager({
    onResult: (e) => {
      const unhealthy = e.result === 'failure' && (e.probe === 'liveness' || e.probe === 'startup') ? e.containerName : undefined;
      pods?.notify(e.podUid, unhealthy);
    },
    onAttempt: (e) => pods?.eventFor(e.podUid, 'Warning', e.reason, e.message),
  });
  const deps = podDeps({ client, cri, agentDir, nodeName: config.nodeName, nodeIP, allocatable: capacityOf(machine).allocatable, probes, log, cluster });
  pods = new PodManager({
    client, cri, nodeName: config.nodeName, nodeIP, logRoot: path.join(agentDir, 'logs'), cgroupRoot: containerd.names.cgroupParent,
    nodeMemoryBytes: machine.memoryBytes, deps, events, log: log.child('pods'),
  });

  // Serving certificate signed by the cluster CA for this node's name and address (the API server verifies it).
  const cert = await ensureServingCertificate({ server: config.server, caPem: config.caPem, agentDir, nodeName: config.nodeName, client: nodeCreds, ipAddresses: [nodeIP], log: log.child('credentials') });
  const kubelet: KubeletServer = await startKubeletServer({
    host: config.kubeletHost ?? '0.0.0.0', port: config.kubeletPort, tls: { certPem: cert.certPem, keyPem: cert.keyPem },
    clientCaPem: config.caPem, backend: pods, log: log.child('server'),
    metrics: new MetricsCollector({ cri }),
  });

  const heartbeat = new NodeHeartbeat({
    client, dataDir: agentDir, log: log.child('node'),
    identity: { name: config.nodeName, nodeIP, kubeletPort: kubelet.port, machine, runtimeVersion: `containerd://${version.runtimeVersion}`, labels: config.labels },
    runtimeHealth: async () => {
      try {
        const st = await cri.status();
        const bad = (st.status?.conditions ?? []).filter((c) => !c.status);
        return bad.length ? { ready: false, message: bad.map((c) => `${c.type}=false reason:${c.reason} message:${c.message}`).join('; ') } : { ready: true };
      } catch (err) {
        return { ready: false, message: `container runtime is down: ${(err as Error).message}` };
      }
    },
    onPodCidr: (cidr) => {
      if (containerd.setPodCidr(cidr)) log.info('pod network configured', { podCIDR: cidr });
      ensurePodMasquerade(containerd.names.network, cidr, cluster.clusterCidr).catch((err) => log.warn('pod masquerade rule not set', { error: (err as Error).message }));
      void heartbeat.updateStatus(true).catch(() => {});
    },
  });
  await heartbeat.start();
  const podCidr = await heartbeat.waitForPodCidr();
  await heartbeat.updateStatus(true);
  const informers = new SharedInformerFactory(client, { log: log.child('informers') });
  const network: NodeNetworkComponent = await startNodeNetworking({
    client, informers, nodeName: config.nodeName, nodeIP, podCidr, cluster, names: containerd.names, agentDir,
    ingressHttpPort: config.ingressHttpPort ?? 80, log: log.child('network'),
  });
  await pods.start();
  say(`node ${config.nodeName} ready in ${Math.round(performance.now() - t0)} ms`);

  return {
    nodeName: config.nodeName, kubeletPort: kubelet.port, containerd, pods,
    async stop() {
      heartbeat.stop();
      pods!.stop();
      await network.stop();
      informers.stop();
      probes.stop();
      await kubelet.close();
      stopLearning();
      (client as { close?: () => void }).close?.();
      await containerd.stop();
      cri.close();
    },
  };
}
