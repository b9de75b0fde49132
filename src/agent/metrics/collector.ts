// Collects what the agent's metrics endpoints serve: container usage from CRI stats (running
// containers only, named by the kubelet labels the pod manager puts on them), the node's from
// /proc, and the agent's own process numbers.
import { int64ToNumber, nanosToMs, type CriClient } from '../cri/client.ts';
import type { Container, ContainerStats } from '../cri/types.ts';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE } from '../pods/cri-config.ts';
import { readNodeUsage, type NodeUsage } from './node-stats.ts';
import { agentMetricsText, processSnapshot } from './process.ts';
import { resourceMetricsText, type ContainerUsage } from './resource.ts';

/** The CRI calls the collector makes (CriClient has them; tests pass a fake). */
export type StatsRuntime = Pick<CriClient, 'listContainers' | 'listContainerStats' | 'listPodSandbox'>;

export interface CollectorOptions {
  cri: StatsRuntime;
  /** Node usage; /proc by default. */
  nodeUsage?: () => Promise<NodeUsage>;
  now?: () => number;
}

/** Joins running containers with their stats; containers without kubelet labels (not ours) are left out. */
export function containerUsages(containers: Container[], stats: ContainerStats[], now: number): ContainerUsage[] {
  const byId = new Map(stats.map((s) => [s.attributes?.id ?? '', s]));
  const out: ContainerUsage[] = [];
  for (const c of containers) {
    if (c.state !== 'CONTAINER_RUNNING') continue;
    const pod = c.labels[LABEL_POD_NAME];
    const namespace = c.labels[LABEL_POD_NAMESPACE];
    const container = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name;
    const s = byId.get(c.id);
    if (!pod || !namespace || !container || !s?.cpu?.usageCoreNanoSeconds) continue;
    const created = nanosToMs(c.createdAt);
    out.push({
      namespace, pod, container,
      cpuSeconds: int64ToNumber(s.cpu.usageCoreNanoSeconds.value) / 1e9,
      memoryWorkingSetBytes: int64ToNumber(s.memory?.workingSetBytes?.value),
      timestampMs: nanosToMs(s.cpu.timestamp) || now,
      ...(created ? { startTimeSeconds: created / 1000 } : {}),
    });
  }
  return out;
}

export class MetricsCollector {
  readonly #o: CollectorOptions;
  #criErrors = 0;
  #resourceScrapes = 0;

  constructor(opts: CollectorOptions) {
    this.#o = opts;
  }

  /** The text of /metrics/resource. */
  async resourceMetrics(): Promise<string> {
    this.#resourceScrapes++;
    const now = (this.#o.now ?? Date.now)();
    const [node, containers] = await Promise.all([
      (this.#o.nodeUsage ?? (() => readNodeUsage(this.#o.now)))().catch(() => undefined),
      this.#containers(now),
    ]);
    return resourceMetricsText({ node, containers: containers ?? [], scrapeError: containers === undefined });
  }

  /** The text of /metrics. */
  async agentMetrics(): Promise<string> {
    let podsRunning: number | undefined;
    let containersRunning: number | undefined;
    try {
      const [sandboxes, containers] = await Promise.all([
        this.#o.cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } }),
        this.#o.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } }),
      ]);
      podsRunning = sandboxes.length;
      containersRunning = containers.length;
    } catch {
      this.#criErrors++;
    }
    return agentMetricsText(processSnapshot(), { podsRunning, containersRunning, criErrors: this.#criErrors, resourceScrapes: this.#resourceScrapes });
  }

  async #containers(now: number): Promise<ContainerUsage[] | undefined> {
    try {
      const [containers, stats] = await Promise.all([
        this.#o.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } }),
        this.#o.cri.listContainerStats(),
      ]);
      return containerUsages(containers, stats, now);
    } catch {
      this.#criErrors++;
      return undefined;
    }
  }
}
