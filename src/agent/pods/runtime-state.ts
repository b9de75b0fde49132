// Reads what runs in containerd back through CRI as RtSandbox/RtContainer, grouped by pod
// UID (from the labels we put on everything we create). Exited containers never change,
// so their full status is fetched once and remembered.
import type { CriClient } from '../cri/client.ts';
import { nanosToMs } from '../cri/client.ts';
import type { ContainerStatus } from '../cri/types.ts';
import { readFileSync } from 'node:fs';
import { ANNOTATION_TERMINATION_MESSAGE_PATH, LABEL_CONTAINER_KIND, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './cri-config.ts';
import type { RtContainer, RtSandbox, RtState } from './types.ts';

export interface PodRuntime {
  sandboxes: RtSandbox[];
  containers: RtContainer[];
}

const STATE: Record<string, RtState> = {
  CONTAINER_CREATED: 'created', CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited', CONTAINER_UNKNOWN: 'unknown',
};

export class RuntimeState {
  readonly #cri: CriClient;
  /** Statuses by container id and state: a running container's start time and an exited one's end are final, so each is fetched once. */
  readonly #known = new Map<string, ContainerStatus>();
  /** A sandbox's IPs by id: they never change once it is ready. */
  readonly #ips = new Map<string, string[]>();
  #byUid = new Map<string, PodRuntime>();

  constructor(cri: CriClient) {
    this.#cri = cri;
  }

  get(uid: string): PodRuntime {
    return this.#byUid.get(uid) ?? { sandboxes: [], containers: [] };
  }

  uids(): string[] {
    return [...this.#byUid.keys()];
  }

  #current?: Promise<Set<string>>;
  #next?: Promise<Set<string>>;
  /** Bumped by every note; a relist remembers where it started. */
  #seq = 0;
  /** What we created ourselves and noted at once, until a listing shows it. */
  readonly #noted = new Map<string, { seq: number; uid: string; sandbox?: RtSandbox; container?: RtContainer }>();

  /** A sandbox we just created, known without waiting for the next relist. */
  noteSandbox(s: RtSandbox): void {
    this.#ips.set(s.id, s.ips);
    this.#noted.set(s.id, { seq: ++this.#seq, uid: s.uid, sandbox: s });
    const p = this.#pod(s.uid);
    p.sandboxes = [...p.sandboxes.filter((x) => x.id !== s.id), s];
  }

  /** A container we just started, known without waiting for the next relist. */
  noteContainer(c: RtContainer): void {
    this.#noted.set(c.id, { seq: ++this.#seq, uid: c.uid, container: c });
    const p = this.#pod(c.uid);
    p.containers = [...p.containers.filter((x) => x.id !== c.id), c];
  }

  #pod(uid: string): PodRuntime {
    let p = this.#byUid.get(uid);
    if (!p) this.#byUid.set(uid, p = { sandboxes: [], containers: [] });
    return p;
  }

  /**
   * Lists everything again; returns the UIDs whose runtime state changed since the last
   * relist. Relists run one at a time, and a caller always gets one that started after
   * its call: an older listing finishing late must never overwrite a newer one (a
   * container just created would seem to be missing, and be created twice).
   */
  relist(): Promise<Set<string>> {
    if (!this.#current) {
      this.#current = this.#relist().finally(() => { this.#current = undefined; });
      return this.#current;
    }
    // One queued relist serves everyone who asked while the current one ran.
    this.#next ??= this.#current.catch(() => {}).then(() => {
      this.#next = undefined;
      return this.relist();
    });
    return this.#next;
  }

  async #relist(): Promise<Set<string>> {
    const startSeq = this.#seq;
    const [sandboxes, containers] = await Promise.all([this.#cri.listPodSandbox(), this.#cri.listContainers()]);
    const next = new Map<string, PodRuntime>();
    const at = (uid: string) => { let p = next.get(uid); if (!p) next.set(uid, p = { sandboxes: [], containers: [] }); return p; };
    for (const s of sandboxes) {
      const uid = s.labels[LABEL_POD_UID];
      if (!uid) continue; // not ours
      let ips = this.#ips.get(s.id) ?? [];
      if (s.state === 'SANDBOX_READY' && !this.#ips.has(s.id)) {
        const st = await this.#cri.podSandboxStatus(s.id).catch(() => undefined);
        const net = st?.status.network;
        if (net?.ip) ips = [net.ip, ...net.additionalIps.map((a) => a.ip)];
        if (st) this.#ips.set(s.id, ips);
      }
      at(uid).sandboxes.push({
        id: s.id, uid, name: s.labels[LABEL_POD_NAME] ?? s.metadata?.name ?? '', namespace: s.labels[LABEL_POD_NAMESPACE] ?? s.metadata?.namespace ?? '',
        attempt: s.metadata?.attempt ?? 0, ready: s.state === 'SANDBOX_READY', createdAt: nanosToMs(s.createdAt), ips,
      });
    }
    const sandboxIds = new Set(sandboxes.map((x) => x.id));
    for (const id of this.#ips.keys()) if (!sandboxIds.has(id)) this.#ips.delete(id);
    const live = new Set<string>();
    for (const c of containers) {
      const uid = c.labels[LABEL_POD_UID];
      if (!uid) continue;
      live.add(c.id);
      const rc: RtContainer = {
        id: c.id, sandboxId: c.podSandboxId, uid, name: c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? '',
        kind: c.labels[LABEL_CONTAINER_KIND] === 'init' ? 'init' : 'regular', attempt: c.metadata?.attempt ?? 0,
        state: STATE[c.state] ?? 'unknown', createdAt: nanosToMs(c.createdAt), image: c.image?.image, imageRef: c.imageRef,
      };
      if (rc.state === 'exited' || rc.state === 'running') {
        let st = this.#known.get(c.id);
        if (!st || st.state !== c.state) {
          st = (await this.#cri.containerStatus(c.id).catch(() => undefined))?.status;
          if (st) this.#known.set(c.id, st);
        }
        if (st) {
          rc.state = STATE[st.state] ?? rc.state;
          rc.startedAt = nanosToMs(st.startedAt) || undefined;
          rc.finishedAt = nanosToMs(st.finishedAt) || undefined;
          rc.exitCode = st.exitCode;
          rc.reason = st.reason || undefined;
          rc.message = st.message || undefined;
          rc.logPath = st.logPath || undefined;
          if (rc.state === 'exited' && !rc.message) rc.message = terminationMessage(st);
        }
      }
      at(uid).containers.push(rc);
    }
    for (const id of this.#known.keys()) if (!live.has(id)) this.#known.delete(id);
    // Noted after this listing began and not in it yet: keep them (the listing is older).
    // Noted before and still absent: really gone.
    for (const [id, n] of this.#noted) {
      if (live.has(id) || sandboxIds.has(id)) { this.#noted.delete(id); continue; }
      if (n.seq <= startSeq) { this.#noted.delete(id); continue; }
      if (n.sandbox) at(n.uid).sandboxes.push(n.sandbox);
      if (n.container) at(n.uid).containers.push(n.container);
    }

    const changed = new Set<string>();
    const sig = (p: PodRuntime | undefined) => JSON.stringify(p ? [p.sandboxes.map((s) => [s.id, s.ready, s.ips]), p.containers.map((c) => [c.id, c.state, c.exitCode])] : null);
    for (const uid of new Set([...next.keys(), ...this.#byUid.keys()])) {
      if (sig(next.get(uid)) !== sig(this.#byUid.get(uid))) changed.add(uid);
    }
    this.#byUid = next;
    return changed;
  }
}

/** What the container wrote to its terminationMessagePath (the file we mounted there), up to 4 KiB as the kubelet reads. */
function terminationMessage(st: ContainerStatus): string | undefined {
  const where = st.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH];
  const mount = where ? st.mounts.find((m) => m.containerPath === where) : undefined;
  if (!mount) return undefined;
  try {
    const text = readFileSync(mount.hostPath).subarray(0, 4096).toString('utf8');
    return text || undefined;
  } catch {
    return undefined;
  }
}
