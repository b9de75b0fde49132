// NetworkPolicy semantics (networking.k8s.io/v1, ingress only) as a pure function of the
// informer caches: which of this node's pods are isolated, and for each policy that
// selects one of them, which sources and ports its ingress rules let in. render.ts turns
// the result into nft sets and rules; `allows` evaluates it directly (tests, debugging).
import type { KObject } from '../api/object.ts';
import { arr, obj, objs, str, strMap } from '../api/kinds/access.ts';
import { selectorMatches, type LabelSelector } from '../api/validation/label-selector.ts';
import { formatRange, ipBlockRanges, mergeRanges, parseIpv4 } from './ipblock.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** A numeric port entry; no port means every port of the protocol. */
export interface PortMatch { protocol: Protocol; port?: number; endPort?: number }

/** A named port resolved on one selected pod. */
export interface NamedPort { protocol: Protocol; ip: string; port: number }

export interface RuleModel {
  /** `from` empty or absent: any source. */
  anySource: boolean;
  /** Some peer selects pods (so podIPs may fill up as pods come and go). */
  podPeers: boolean;
  /** IPs of the pods the podSelector / namespaceSelector peers match (any node), sorted. */
  podIPs: string[];
  /** ipBlock peers, excepts cut out: nft interval elements ("a.b.c.d" or "a-b"), sorted. */
  ranges: string[];
  /** `ports` empty or absent: any port. */
  anyPort: boolean;
  ports: PortMatch[];
  /** Some `ports` entry names a port (so named may fill up as pods come and go). */
  namedPorts: boolean;
  /** Named ports, resolved per selected local pod (a pod without the name adds nothing). */
  named: NamedPort[];
}

export interface PolicyModel {
  /** namespace/name */
  key: string;
  /** IPs of this node's pods the policy selects, sorted. */
  targets: string[];
  /** The ingress rules; none means the selected pods accept nothing (but see below). */
  rules: RuleModel[];
}

export interface NetpolModel {
  /** Ingress policies selecting at least one local pod, by key. */
  policies: PolicyModel[];
  /** Local pods selected by any ingress policy: everything else is not filtered. */
  isolated: string[];
}

export interface ModelInput {
  policies: readonly KObject[];
  pods: readonly KObject[];
  namespaces: readonly KObject[];
  nodeName: string;
}

const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** The pod's IPv4 address when it takes part in pod networking, else undefined. */
export function podNetworkIP(pod: KObject): string | undefined {
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  if (spec.hostNetwork === true) return undefined;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return undefined;
  const ips = [str(status.podIP), ...objs(status.podIPs).map((p) => str(p.ip))];
  return ips.find((ip) => parseIpv4(ip) !== undefined);
}

/** Ingress applies unless policyTypes is given and leaves it out (the server defaults it). */
export function isIngressPolicy(np: KObject): boolean {
  const types = arr(obj(np.spec).policyTypes);
  return types.length === 0 || types.includes('Ingress');
}

function namespaceLabels(ns: KObject): Record<string, string> {
  // Every namespace carries this label (our Namespace kind adds it); set it for old objects too.
  return { ...strMap(ns.metadata.labels), 'kubernetes.io/metadata.name': ns.metadata.name ?? '' };
}

function byIp(a: string, b: string): number {
  return parseIpv4(a)! - parseIpv4(b)!;
}

function uniqSorted(ips: Iterable<string>): string[] {
  return [...new Set(ips)].map((ip) => [parseIpv4(ip)!, ip] as const).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
}

export function computeModel(input: ModelInput): NetpolModel {
  const nsLabels = new Map<string, Record<string, string>>();
  for (const ns of input.namespaces) nsLabels.set(ns.metadata.name ?? '', namespaceLabels(ns));
  const labelsOfNs = (name: string) => nsLabels.get(name) ?? { 'kubernetes.io/metadata.name': name };

  const live = input.pods.flatMap((pod) => {
    const ip = podNetworkIP(pod);
    return ip ? [{ pod, ip, ns: pod.metadata.namespace ?? '', labels: strMap(pod.metadata.labels) }] : [];
  });
  const local = live.filter((p) => obj(p.pod.spec).nodeName === input.nodeName);
  const liveByNs = new Map<string, typeof live>();
  for (const p of live) {
    const list = liveByNs.get(p.ns);
    if (list) list.push(p); else liveByNs.set(p.ns, [p]);
  }

  const policies: PolicyModel[] = [];
  const isolated = new Set<string>();
  const sorted = [...input.policies].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const np of sorted) {
    if (!isIngressPolicy(np)) continue;
    const spec = obj(np.spec);
    const ns = np.metadata.namespace ?? '';
    const podSelector = obj(spec.podSelector) as LabelSelector;
    const selected = local.filter((p) => p.ns === ns && selectorMatches(podSelector, p.labels));
    if (selected.length === 0) continue;
    for (const p of selected) isolated.add(p.ip);

    const rules = objs(spec.ingress).map((rule): RuleModel => {
      const from = objs(rule.from);
      const podIPs: string[] = [];
      const ranges = [];
      for (const peer of from) {
        if (peer.ipBlock != null) {
          const block = obj(peer.ipBlock);
          ranges.push(...ipBlockRanges(str(block.cidr), arr(block.except).map(str)));
          continue;
        }
        const podSel = peer.podSelector == null ? undefined : (obj(peer.podSelector) as LabelSelector);
        const nsSel = peer.namespaceSelector == null ? undefined : (obj(peer.namespaceSelector) as LabelSelector);
        if (!podSel && !nsSel) continue; // an empty peer is invalid; it matches nothing
        const namespaces = nsSel ? [...liveByNs.keys()].filter((n) => selectorMatches(nsSel, labelsOfNs(n))) : [ns];
        for (const n of namespaces) {
          for (const p of liveByNs.get(n) ?? []) if (!podSel || selectorMatches(podSel, p.labels)) podIPs.push(p.ip);
        }
      }
      const ports: PortMatch[] = [];
      const named: NamedPort[] = [];
      for (const entry of objs(rule.ports)) {
        const protocol = (PROTOCOLS.includes(str(entry.protocol)) ? entry.protocol : 'TCP') as Protocol;
        if (typeof entry.port === 'string') {
          for (const p of selected) {
            const port = namedContainerPort(p.pod, entry.port, protocol);
            if (port !== undefined) named.push({ protocol, ip: p.ip, port });
          }
        } else if (typeof entry.port === 'number') {
          const endPort = typeof entry.endPort === 'number' && entry.endPort > entry.port ? entry.endPort : undefined;
          ports.push(endPort ? { protocol, port: entry.port, endPort } : { protocol, port: entry.port });
        } else {
          ports.push({ protocol });
        }
      }
      return {
        anySource: from.length === 0,
        podPeers: from.some((peer) => peer.ipBlock == null && (peer.podSelector != null || peer.namespaceSelector != null)),
        podIPs: uniqSorted(podIPs),
        ranges: mergeRanges(ranges).map(formatRange),
        anyPort: objs(rule.ports).length === 0,
        ports,
        namedPorts: objs(rule.ports).some((e) => typeof e.port === 'string'),
        named: named.sort((a, b) => byIp(a.ip, b.ip) || a.port - b.port || a.protocol.localeCompare(b.protocol)),
      };
    });
    policies.push({ key: keyOf(np), targets: uniqSorted(selected.map((p) => p.ip)), rules });
  }
  return { policies, isolated: uniqSorted(isolated) };
}

function keyOf(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

/** The container port called `name` with this protocol (default TCP), as the kubelet sees ports. */
export function namedContainerPort(pod: KObject, name: string, protocol: Protocol): number | undefined {
  for (const c of objs(obj(pod.spec).containers)) {
    for (const p of objs(c.ports)) {
      if (p.name === name && (str(p.protocol) || 'TCP') === protocol && typeof p.containerPort === 'number') return p.containerPort;
    }
  }
  return undefined;
}

export interface Connection { src: string; dst: string; protocol: Protocol; port: number }

/**
 * Whether the model lets a new connection in (ignoring the node and reply exceptions the
 * nft rules add): the same decision the rendered rules make, for tests and debugging.
 */
export function allows(model: NetpolModel, c: Connection): boolean {
  if (!model.isolated.includes(c.dst)) return true;
  const src = parseIpv4(c.src)!;
  return model.policies.some((p) => p.targets.includes(c.dst) && p.rules.some((r) => {
    const fromOk = r.anySource || r.podIPs.includes(c.src) || r.ranges.some((el) => {
      const [a, b = a] = el.split('-');
      return src >= parseIpv4(a!)! && src <= parseIpv4(b!)!;
    });
    const portOk = r.anyPort
      || r.ports.some((p) => p.protocol === c.protocol && (p.port === undefined || (c.port >= p.port && c.port <= (p.endPort ?? p.port))))
      || r.named.some((n) => n.protocol === c.protocol && n.ip === c.dst && n.port === c.port);
    return fromOk && portOk;
  }));
}
