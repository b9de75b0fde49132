// The Pod Security Standards (baseline and restricted, as of Kubernetes 1.32), each check a
// function of the pod's metadata and spec returning a violation in the words kube-apiserver
// uses ("privileged (container \"c\" must not set securityContext.privileged=true)"), so
// users see the message the Kubernetes docs show.
type Json = Record<string, any>;

export type Level = 'privileged' | 'baseline' | 'restricted';
export interface Violation { reason: string; detail: string }

interface Container { name: string; securityContext?: Json; ports?: Json[] }

function containersOf(spec: Json): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])].filter((c) => c && typeof c === 'object');
}

const quoteList = (names: string[]): string => names.map((n) => JSON.stringify(n)).join(', ');
const containersWord = (names: string[]): string => `${names.length === 1 ? 'container' : 'containers'} ${quoteList(names)}`;
const joined = (parts: string[]): string => parts.join('; ');

const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const SAFE_SYSCTLS = new Set(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes']);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

type Check = (meta: Json, spec: Json) => Violation | undefined;

const hostNamespaces: Check = (_m, spec) => {
  const set = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => spec[k] === true);
  return set.length ? { reason: 'host namespaces', detail: set.map((k) => `${k}=true`).join(', ') } : undefined;
};

const privileged: Check = (_m, spec) => {
  const bad = containersOf(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  return bad.length ? { reason: 'privileged', detail: `${containersWord(bad)} must not set securityContext.privileged=true` } : undefined;
};

const capabilities: Check = (_m, spec) => {
  const parts: string[] = [];
  for (const c of containersOf(spec)) {
    const extra = ((c.securityContext?.capabilities?.add ?? []) as string[]).filter((cap) => !BASELINE_CAPS.has(cap));
    if (extra.length) parts.push(`container ${JSON.stringify(c.name)} must not include ${quoteList(extra)} in securityContext.capabilities.add`);
  }
  return parts.length ? { reason: 'non-default capabilities', detail: joined(parts) } : undefined;
};

const hostPathVolumes: Check = (_m, spec) => {
  const bad = ((spec.volumes ?? []) as Json[]).filter((v) => v?.hostPath).map((v) => v.name as string);
  return bad.length ? { reason: 'hostPath volumes', detail: `${bad.length === 1 ? 'volume' : 'volumes'} ${quoteList(bad)}` } : undefined;
};

const hostPorts: Check = (_m, spec) => {
  const parts: string[] = [];
  for (const c of containersOf(spec)) {
    const ports = ((c.ports ?? []) as Json[]).map((p) => p?.hostPort).filter((p) => typeof p === 'number' && p !== 0);
    if (ports.length) parts.push(`${containersWord([c.name])} uses ${ports.length === 1 ? 'hostPort' : 'hostPorts'} ${ports.join(', ')}`);
  }
  return parts.length ? { reason: 'hostPort', detail: parts.join(', ') } : undefined;
};

const appArmor: Check = (meta, spec) => {
  const bad: string[] = [];
  for (const [k, v] of Object.entries((meta.annotations ?? {}) as Record<string, string>)) {
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !v.startsWith('localhost/')) bad.push(`${k}="${v}"`);
  }
  const types = [spec.securityContext?.appArmorProfile?.type, ...containersOf(spec).map((c) => c.securityContext?.appArmorProfile?.type)];
  if (types.includes('Unconfined')) bad.push('appArmorProfile.type="Unconfined"');
  return bad.length ? { reason: 'forbidden AppArmor profile', detail: bad.join(', ') } : undefined;
};

const seLinux: Check = (_m, spec) => {
  const opts = [spec.securityContext?.seLinuxOptions, ...containersOf(spec).map((c) => c.securityContext?.seLinuxOptions)].filter(Boolean) as Json[];
  const bad: string[] = [];
  for (const o of opts) {
    if (!SELINUX_TYPES.has(o.type ?? '')) bad.push(`type "${o.type}"`);
    if (o.user) bad.push(`user "${o.user}"`);
    if (o.role) bad.push(`role "${o.role}"`);
  }
  return bad.length ? { reason: 'seLinuxOptions', detail: `forbidden securityContext.seLinuxOptions: ${bad.join(', ')}` } : undefined;
};

const procMount: Check = (_m, spec) => {
  const bad = containersOf(spec).filter((c) => c.securityContext?.procMount && c.securityContext.procMount !== 'Default').map((c) => c.name);
  return bad.length ? { reason: 'procMount', detail: `${containersWord(bad)} must not set securityContext.procMount to "Unmasked"` } : undefined;
};

const seccompBaseline: Check = (_m, spec) => {
  const parts: string[] = [];
  if (spec.securityContext?.seccompProfile?.type === 'Unconfined') parts.push('pod must not set securityContext.seccompProfile.type to "Unconfined"');
  const bad = containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined').map((c) => c.name);
  if (bad.length) parts.push(`${containersWord(bad)} must not set securityContext.seccompProfile.type to "Unconfined"`);
  return parts.length ? { reason: 'seccompProfile', detail: joined(parts) } : undefined;
};

const sysctls: Check = (_m, spec) => {
  const bad = ((spec.securityContext?.sysctls ?? []) as Json[]).map((s) => s?.name as string).filter((n) => !SAFE_SYSCTLS.has(n));
  return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
};

const volumeTypes: Check = (_m, spec) => {
  const parts: string[] = [];
  for (const v of (spec.volumes ?? []) as Json[]) {
    const type = Object.keys(v ?? {}).find((k) => k !== 'name');
    if (type && !RESTRICTED_VOLUMES.has(type)) parts.push(`volume ${JSON.stringify(v.name)} uses restricted volume type ${JSON.stringify(type)}`);
  }
  return parts.length ? { reason: 'restricted volume types', detail: parts.join(', ') } : undefined;
};

const privilegeEscalation: Check = (_m, spec) => {
  const bad = containersOf(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containersWord(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
};

const runAsNonRoot: Check = (_m, spec) => {
  const podSet = spec.securityContext?.runAsNonRoot;
  const explicitFalse = containersOf(spec).filter((c) => c.securityContext?.runAsNonRoot === false).map((c) => c.name);
  const unset = containersOf(spec).filter((c) => c.securityContext?.runAsNonRoot === undefined && podSet !== true).map((c) => c.name);
  const parts: string[] = [];
  if (podSet === false) parts.push('pod must not set securityContext.runAsNonRoot=false');
  if (explicitFalse.length) parts.push(`${containersWord(explicitFalse)} must not set securityContext.runAsNonRoot=false`);
  if (unset.length && podSet !== false) parts.push(`pod or ${containersWord(unset)} must set securityContext.runAsNonRoot=true`);
  return parts.length ? { reason: 'runAsNonRoot != true', detail: joined(parts) } : undefined;
};

const runAsUser: Check = (_m, spec) => {
  const parts: string[] = [];
  if (spec.securityContext?.runAsUser === 0) parts.push('pod must not set runAsUser=0');
  const bad = containersOf(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
  if (bad.length) parts.push(`${containersWord(bad)} must not set runAsUser=0`);
  return parts.length ? { reason: 'runAsUser=0', detail: joined(parts) } : undefined;
};

const seccompRestricted: Check = (_m, spec) => {
  const ok = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
  const podType = spec.securityContext?.seccompProfile?.type;
  if (podType !== undefined && !ok(podType)) return { reason: 'seccompProfile', detail: `pod must not set securityContext.seccompProfile.type to ${JSON.stringify(podType)}` };
  const explicit = containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type !== undefined && !ok(c.securityContext.seccompProfile.type)).map((c) => c.name);
  if (explicit.length) return { reason: 'seccompProfile', detail: `${containersWord(explicit)} must not set securityContext.seccompProfile.type to "Unconfined"` };
  const unset = podType === undefined ? containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type === undefined).map((c) => c.name) : [];
  return unset.length ? { reason: 'seccompProfile', detail: `pod or ${containersWord(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` } : undefined;
};

const restrictedCapabilities: Check = (_m, spec) => {
  const noDrop: string[] = [];
  const parts: string[] = [];
  for (const c of containersOf(spec)) {
    const caps = c.securityContext?.capabilities ?? {};
    if (!((caps.drop ?? []) as string[]).includes('ALL')) noDrop.push(c.name);
    const extra = ((caps.add ?? []) as string[]).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (extra.length) parts.push(`container ${JSON.stringify(c.name)} must not include ${quoteList(extra)} in securityContext.capabilities.add`);
  }
  if (noDrop.length) parts.unshift(`${containersWord(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  return parts.length ? { reason: 'unrestricted capabilities', detail: joined(parts) } : undefined;
};

// In the order of Kubernetes' check IDs, which is the order its messages list them in.
const BASELINE: Check[] = [appArmor, capabilities, hostNamespaces, hostPathVolumes, hostPorts, privileged, procMount, seLinux, seccompBaseline, sysctls];
// Restricted replaces baseline's seccomp and capability checks with stricter ones.
const RESTRICTED: Check[] = [privilegeEscalation, appArmor, restrictedCapabilities, hostNamespaces, hostPathVolumes, hostPorts, privileged,
  procMount, volumeTypes, runAsNonRoot, runAsUser, seLinux, seccompRestricted, sysctls];

export function violations(level: Level, meta: Json, spec: Json): Violation[] {
  if (level === 'privileged') return [];
  const out: Violation[] = [];
  for (const check of level === 'baseline' ? BASELINE : RESTRICTED) {
    const v = check(meta ?? {}, spec ?? {});
    if (v) out.push(v);
  }
  return out;
}

/** "host namespaces (hostNetwork=true), privileged (container \"c\" must not ...)" */
export function describe(vs: Violation[]): string {
  return vs.map((v) => `${v.reason} (${v.detail})`).join(', ');
}
