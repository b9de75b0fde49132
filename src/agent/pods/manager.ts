// The pod manager: the kubelet's sync loop for the pods bound to this node. One informer
// (spec.nodeName=<node>) and a 1 s relist of containerd's state (the kubelet's PLEG) feed
// a work queue; sync(key) is idempotent: it compares the pod's spec with what runs and
// takes the next step (sandbox, init containers in order, containers, restarts with
// backoff, termination), then writes the status if it changed.
import path from 'node:path';
import type { KObject } from '../../api/object.ts';
import { objectKey } from '../../client/cache.ts';
import { Informer } from '../../client/informer.ts';
import { isConflict, isNotFound, type ApiClient, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import type { EventRecorder } from '../../controllers/events.ts';
import type { Logger } from '../../util/log.ts';
import type { CriClient } from '../cri/client.ts';
import { isNotFound as criNotFound } from '../cri/client.ts';
import type { Mount, PodSandboxConfig } from '../cri/types.ts';
import type { PodVolumeMap } from '../volumes/index.ts';
import { mergePodStatus } from '../sim/lifecycle.ts';
import type { ContainerRef, PodStreamBackend, StreamFlags } from '../server/types.ts';
import { defaultPullPolicy } from '../../api/kinds/pod-spec-defaults.ts';
import { RestartBackoff } from './backoff.ts';
import { credentialsFor, goDuration, kubeletRpcError, podPullSecrets } from './pull-secrets.ts';
import { containerConfig, sandboxConfig } from './cri-config.ts';
import { RuntimeState } from './runtime-state.ts';
import { buildPodStatus, instancesOf } from './status.ts';
import type { RtContainer, RtSandbox, Waiting } from './types.ts';

type Json = Record<string, any>;

/** Pod-level services the manager uses; agent.ts wires the real ones. */
export interface PodDeps {
  /** Volumes set up on the node for this pod: volume name → host path. */
  setUpVolumes(pod: KObject): Promise<PodVolumeMap>;
  /** Refreshes configMap/secret/downwardAPI contents in place. */
  updateVolumes(pod: KObject): Promise<void>;
  tearDownVolumes(pod: { uid: string }): Promise<void>;
  /** CRI mounts for one container (volumeMounts, /etc/hosts, termination log). */
  containerMounts(pod: KObject, container: Json, volumes: PodVolumeMap, podIP: string, env: { name: string; value: string }[]): Promise<Mount[]>;
  resolveEnv(pod: KObject, container: Json, podIPs: string[]): Promise<{ name: string; value: string }[]>;
  /** Runs a lifecycle hook handler; resolves with an error message on failure. */
  runHook(pod: KObject, container: Json, containerId: string, handler: Json, podIP: string, timeoutSeconds: number): Promise<string | undefined>;
  probes: ProbeHost;
  dns(pod: KObject): { servers: string[]; searches: string[]; options: string[] } | undefined;
}

export interface ProbeHost {
  addContainer(pod: KObject, container: Json, containerId: string, podIP: string, startedAt: number): void;
  removeContainer(uid: string, name: string): void;
  removePod(uid: string): void;
  ready(uid: string, name: string): boolean;
  started(uid: string, name: string): boolean;
}

export interface PodManagerOptions {
  client: ApiClient;
  cri: CriClient;
  nodeName: string;
  nodeIP: string;
  /** Pod log directories live under `<logRoot>/<ns>_<name>_<uid>/`. */
  logRoot: string;
  /** The cgroup parent pods' cgroups go under (cgroupfs path). */
  cgroupRoot: string;
  nodeMemoryBytes: number;
  deps: PodDeps;
  events: EventRecorder;
  log: Logger;
  relistIntervalMs?: number;
}

interface PodState {
  uid: string;
  key: string;
  waiting: Map<string, Waiting>;
  failed?: { reason?: string; message?: string };
  /** The status last written, so an unchanged one is not written again. */
  written?: string;
  volumes?: PodVolumeMap;
  volumesRefreshedAt: number;
  /** Containers whose liveness or startup probe failed: kill and restart at the next sync. */
  unhealthy: Set<string>;
  /** Instances we already started (hooks and probes set up), by container id. */
  started: Set<string>;
}

const byUid = (pod: KObject): string[] => [pod.metadata.uid ?? ''];
const spec = (pod: KObject): Json => (pod.spec ?? {}) as Json;
const VOLUME_REFRESH_MS = 10_000;

export class PodManager implements PodStreamBackend {
  readonly #o: PodManagerOptions;
  readonly #pods: ResourceInterface;
  readonly #informer: Informer;
  readonly #queue: WorkQueue;
  readonly #rt: RuntimeState;
  readonly #state = new Map<string, PodState>();
  readonly #crashes = new RestartBackoff();
  readonly #pulls = new RestartBackoff();
  readonly #log: Logger;
  #relist?: ReturnType<typeof setTimeout>;
  #stopped = false;
  #synced = false;

  constructor(o: PodManagerOptions) {
    this.#o = o;
    this.#log = o.log;
    this.#pods = o.client.resource('', 'v1', 'pods');
    this.#rt = new RuntimeState(o.cri);
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      concurrency: 8, baseDelayMs: 500, maxDelayMs: 30_000,
      onError: (key, err) => { if (!this.#stopped) this.#log.warn('pod sync failed', { pod: key, error: (err as Error)?.message ?? String(err) }); },
    });
    this.#informer = new Informer(this.#pods, {
      fieldSelector: `spec.nodeName=${o.nodeName}`, indexers: { byUid }, name: 'pods', log: o.log.child('pods'),
    });
    this.#informer.addEventHandler({
      onAdd: (pod) => this.#queue.add(objectKey(pod)),
      onUpdate: (_old, pod) => this.#queue.add(objectKey(pod)),
      onDelete: (pod) => this.#queue.add(objectKey(pod)),
    });
  }

  async start(): Promise<void> {
    // What already runs first: pods started by an earlier agent are adopted, not restarted.
    await this.#rt.relist();
    this.#informer.start();
    await this.#informer.waitForSync();
    this.#synced = true;
    const tick = async () => {
      if (this.#stopped) return;
      try {
        const changed = await this.#rt.relist();
        for (const uid of changed) this.#enqueueUid(uid);
        this.#cleanupOrphans();
      } catch (err) {
        this.#log.warn('runtime relist failed', { error: (err as Error).message });
      }
      if (!this.#stopped) this.#relist = setTimeout(tick, this.#o.relistIntervalMs ?? 1_000);
    };
    this.#relist = setTimeout(tick, this.#o.relistIntervalMs ?? 1_000);
    // A resync every 10 s keeps volumes fresh and catches anything missed.
    const resync = setInterval(() => { for (const p of this.#informer.list()) this.#queue.add(objectKey(p)); }, 10_000);
    resync.unref();
    this.#stopTimers.push(() => clearInterval(resync));
  }

  #stopTimers: (() => void)[] = [];

  /** Stops managing pods; what runs keeps running (a restarted agent adopts it). */
  stop(): void {
    this.#stopped = true;
    if (this.#relist) clearTimeout(this.#relist);
    for (const f of this.#stopTimers) f();
    this.#queue.stop();
    this.#informer.stop();
  }

  get idle(): boolean { return this.#queue.idle; }

  /** Probe results and other outside news about a pod: sync it again. */
  notify(uid: string, unhealthy?: string): void {
    const st = this.#state.get(uid);
    if (st && unhealthy) st.unhealthy.add(unhealthy);
    this.#enqueueUid(uid);
  }

  /** An Event about a pod known by UID (probe failures come that way). */
  eventFor(uid: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const pod = this.#informer.byIndex('byUid', uid)[0];
    if (pod) this.#o.events.event(pod, type, reason, message);
  }

  #enqueueUid(uid: string): void {
    const pod = this.#informer.byIndex('byUid', uid)[0];
    if (pod) this.#queue.add(objectKey(pod));
    else if (this.#synced) this.#queue.add(`orphan/${uid}`);
  }

  #cleanupOrphans(): void {
    if (!this.#synced) return;
    for (const uid of this.#rt.uids()) {
      if (!this.#informer.byIndex('byUid', uid).length) this.#queue.add(`orphan/${uid}`);
    }
  }

  // ---- sync ---------------------------------------------------------------------------

  async #sync(key: string): Promise<void> {
    if (this.#stopped) return;
    if (key.startsWith('orphan/')) return this.#removeOrphan(key.slice('orphan/'.length));
    const pod = this.#informer.get(key);
    if (!pod) {
      // Gone from the API: whatever still runs for it is cleaned up as an orphan.
      for (const st of this.#state.values()) if (st.key === key) this.#queue.add(`orphan/${st.uid}`);
      return;
    }
    const uid = pod.metadata.uid!;
    let st = this.#state.get(uid);
    if (!st) {
      st = { uid, key, waiting: new Map(), volumesRefreshedAt: 0, unhealthy: new Set(), started: new Set() };
      this.#state.set(uid, st);
    }
    if (pod.metadata.deletionTimestamp) return this.#terminate(pod, st);
    const phase = (pod.status as Json | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      await this.#stopPod(pod, st, 0);
      return;
    }
    this.#checkDeadline(pod, st);
    if (st.failed) await this.#stopPod(pod, st, Number(spec(pod).terminationGracePeriodSeconds ?? 30));
    else await this.#advance(pod, st);
    await this.#writeStatus(pod, st);
    const newPhase = JSON.parse(st.written ?? '{}').phase;
    if (newPhase === 'Succeeded' || newPhase === 'Failed') await this.#stopPod(pod, st, 0);
  }

  /** activeDeadlineSeconds, counted from the pod's start on this node, as the kubelet does. */
  #checkDeadline(pod: KObject, st: PodState): void {
    const deadline = spec(pod).activeDeadlineSeconds;
    const start = Date.parse(String((pod.status as Json | undefined)?.startTime ?? ''));
    if (typeof deadline !== 'number' || !Number.isFinite(start) || st.failed) return;
    const left = start + deadline * 1000 - Date.now();
    if (left > 0) { this.#queue.addAfter(st.key, left + 50); return; }
    st.failed = { reason: 'DeadlineExceeded', message: `Pod was active on the node longer than the specified deadline` };
    this.#o.events.event(pod, 'Normal', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
  }

  /** One step towards the spec: sandbox, then init containers in order, then containers. */
  async #advance(pod: KObject, st: PodState): Promise<void> {
    const s = spec(pod);
    let rt = this.#rt.get(st.uid);
    let sandbox = newest(rt.sandboxes);
    if (!sandbox || !sandbox.ready) {
      if (st.failed) return;
      // Under restartPolicy Never a pod whose sandbox died after its containers ran is not
      // started again (the kubelet's computePodActions): it ends as its containers did.
      if (sandbox && (s.restartPolicy ?? 'Always') === 'Never' && rt.containers.some((c) => c.sandboxId === sandbox!.id)) {
        if (!rt.containers.some((c) => c.sandboxId === sandbox!.id && c.state !== 'exited')) return;
      }
      // Volumes and the sandbox do not depend on each other: set them up side by side.
      const [volumesReady, created] = await Promise.all([this.#ensureVolumes(pod, st), this.#createSandbox(pod, st, sandbox)]);
      sandbox = created;
      if (!sandbox || !volumesReady) return;
      rt = this.#rt.get(st.uid);
    } else if (!(await this.#ensureVolumes(pod, st))) {
      return;
    } else if (Date.now() - st.volumesRefreshedAt > VOLUME_REFRESH_MS) {
      st.volumesRefreshedAt = Date.now();
      await this.#o.deps.updateVolumes(pod).catch((err) => this.#log.debug('volume refresh failed', { pod: st.key, error: (err as Error).message }));
    }
    const containers = rt.containers.filter((c) => c.sandboxId === sandbox!.id);
    const policy = s.restartPolicy ?? 'Always';

    // Liveness/startup failures: kill now; the restart below follows the restart policy.
    for (const name of st.unhealthy) {
      const c = instancesOf(containers, name)[0];
      st.unhealthy.delete(name);
      if (c?.state === 'running') {
        const cs = [...(s.containers ?? []), ...(s.initContainers ?? [])].find((x: Json) => x.name === name);
        this.#o.events.event(pod, 'Normal', 'Killing', `Container ${name} failed liveness probe, will be restarted`);
        await this.#killContainer(pod, cs, c, s.terminationGracePeriodSeconds ?? 30);
        await this.#refresh();
        return this.#advance(pod, st);
      }
    }

    for (const c of (s.initContainers ?? []) as Json[]) {
      const sidecar = c.restartPolicy === 'Always';
      const latest = instancesOf(containers, c.name, 'init')[0];
      if (!latest) { await this.#startContainer(pod, st, sandbox, c, 'init', 0); return; }
      if (latest.state === 'running' || latest.state === 'created') {
        if (sidecar && latest.state === 'running') continue;
        return; // wait for it to finish
      }
      if (latest.exitCode === 0 && !sidecar) continue;
      if (!sidecar && policy === 'Never') {
        st.failed = { reason: undefined, message: undefined };
        return;
      }
      await this.#restart(pod, st, sandbox, c, 'init', latest);
      return;
    }

    for (const c of (s.containers ?? []) as Json[]) {
      const latest = instancesOf(containers, c.name, 'regular')[0];
      if (!latest) { await this.#startContainer(pod, st, sandbox, c, 'regular', 0); continue; }
      if (latest.state !== 'exited') {
        if (latest.state === 'running' && !st.started.has(latest.id)) this.#adopt(pod, st, sandbox, c, latest);
        continue;
      }
      const again = policy === 'Always' || (policy === 'OnFailure' && latest.exitCode !== 0);
      if (again) await this.#restart(pod, st, sandbox, c, 'regular', latest);
    }
  }

  /** A running container we did not start in this process (agent restart): probes only. */
  #adopt(pod: KObject, st: PodState, sandbox: RtSandbox, c: Json, latest: RtContainer): void {
    st.started.add(latest.id);
    this.#o.deps.probes.addContainer(pod, c, latest.id, sandbox.ips[0] ?? this.#o.nodeIP, latest.startedAt ?? latest.createdAt);
  }

  async #restart(pod: KObject, st: PodState, sandbox: RtSandbox, c: Json, kind: 'init' | 'regular', latest: RtContainer): Promise<void> {
    const key = `${st.uid}/${c.name}`;
    const now = Date.now();
    const finishedAt = latest.finishedAt ?? now;
    const wait = this.#crashes.remaining(key, finishedAt, now);
    if (wait > 0) {
      const secs = Math.round(this.#crashes.delay(key) / 1000);
      const message = `back-off ${formatSeconds(secs)} restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${st.uid})`;
      if (st.waiting.get(c.name)?.reason !== 'CrashLoopBackOff') this.#o.events.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${st.uid})`);
      st.waiting.set(c.name, { reason: 'CrashLoopBackOff', message });
      this.#queue.addAfter(st.key, wait + 50);
      return;
    }
    this.#crashes.retried(key, now, (latest.finishedAt ?? now) - (latest.startedAt ?? now));
    await this.#startContainer(pod, st, sandbox, c, kind, latest.attempt + 1);
  }

  /** The pod's volumes, set up once; on failure a FailedMount event and a retry. */
  async #ensureVolumes(pod: KObject, st: PodState): Promise<boolean> {
    if (st.volumes) return true;
    try {
      st.volumes = await this.#o.deps.setUpVolumes(pod);
      st.volumesRefreshedAt = Date.now();
      return true;
    } catch (err) {
      const e = err as Error & { eventMessage?: string };
      this.#o.events.event(pod, 'Warning', 'FailedMount', e.eventMessage ?? `MountVolume.SetUp failed: ${e.message}`);
      for (const c of [...(spec(pod).initContainers ?? []), ...(spec(pod).containers ?? [])]) st.waiting.set(c.name, { reason: 'ContainerCreating' });
      this.#queue.addAfter(st.key, 2_000);
      return false;
    }
  }

  async #createSandbox(pod: KObject, st: PodState, old: RtSandbox | undefined): Promise<RtSandbox | undefined> {
    const cri = this.#o.cri;
    if (old) {
      // The sandbox died (or its network did): everything in it restarts in a new one.
      this.#o.events.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await this.#stopPod(pod, st, 0);
      await cri.removePodSandbox(old.id).catch((err) => { if (!criNotFound(err)) throw err; });
    }
    const config = this.#sandboxConfig(pod, old ? old.attempt + 1 : 0);
    let id: string;
    try {
      id = await cri.runPodSandbox(config);
    } catch (err) {
      const message = (err as Error).message;
      this.#o.events.event(pod, 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${message}`);
      this.#log.warn('sandbox failed', { pod: st.key, error: message });
      this.#queue.addAfter(st.key, 5_000);
      return undefined;
    }
    // Known at once rather than at the next relist: the containers start without waiting.
    const net = (await cri.podSandboxStatus(id)).status.network;
    const sandbox: RtSandbox = {
      id, uid: st.uid, name: pod.metadata.name!, namespace: pod.metadata.namespace ?? 'default', attempt: config.metadata.attempt ?? 0,
      ready: true, createdAt: Date.now(), ips: net?.ip ? [net.ip, ...net.additionalIps.map((a) => a.ip)] : [],
    };
    this.#rt.noteSandbox(sandbox);
    return sandbox;
  }

  #sandboxConfig(pod: KObject, attempt: number): PodSandboxConfig {
    const ns = pod.metadata.namespace ?? 'default';
    return sandboxConfig(pod, {
      attempt, nodeName: this.#o.nodeName, dns: this.#o.deps.dns(pod),
      logDirectory: this.#logDir(pod),
      cgroupParent: `${this.#o.cgroupRoot}/pod${pod.metadata.uid}`,
    });
  }

  #logDir(pod: KObject): string {
    return path.join(this.#o.logRoot, `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${pod.metadata.uid}`);
  }

  async #refresh(): Promise<void> {
    const changed = await this.#rt.relist();
    for (const uid of changed) this.#enqueueUid(uid);
  }

  async #startContainer(pod: KObject, st: PodState, sandbox: RtSandbox, c: Json, kind: 'init' | 'regular', attempt: number): Promise<void> {
    const cri = this.#o.cri;
    const image = await this.#ensureImage(pod, st, c);
    if (!image) return;
    const podIP = sandbox.ips[0] ?? this.#o.nodeIP;
    let envs: { name: string; value: string }[];
    let mounts: Mount[];
    try {
      envs = await this.#o.deps.resolveEnv(pod, c, sandbox.ips.length ? sandbox.ips : [podIP]);
      mounts = await this.#o.deps.containerMounts(pod, c, st.volumes!, podIP, envs);
    } catch (err) {
      const message = (err as Error).message;
      if (st.waiting.get(c.name)?.message !== message) this.#o.events.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      st.waiting.set(c.name, { reason: 'CreateContainerConfigError', message });
      this.#queue.addAfter(st.key, 2_000);
      return;
    }
    // Older instances go; the last one stays so `kubectl logs --previous` has its log.
    const old = instancesOf(this.#rt.get(st.uid).containers, c.name, kind);
    for (const o of old.slice(1)) await cri.removeContainer(o.id).catch(() => {});
    const config = containerConfig(pod, c, { attempt, kind, image, envs, mounts, logPath: `${c.name}/${attempt}.log`, nodeMemoryBytes: this.#o.nodeMemoryBytes });
    let id: string;
    try {
      id = await cri.createContainer(sandbox.id, config, this.#sandboxConfig(pod, sandbox.attempt));
    } catch (err) {
      const message = (err as Error).message;
      this.#o.events.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      st.waiting.set(c.name, { reason: 'CreateContainerError', message });
      this.#queue.addAfter(st.key, 5_000);
      return;
    }
    this.#o.events.event(pod, 'Normal', 'Created', `Created container ${c.name}`);
    try {
      await cri.startContainer(id);
    } catch (err) {
      const message = (err as Error).message;
      this.#o.events.event(pod, 'Warning', 'Failed', `Error: ${message}`);
      st.waiting.set(c.name, { reason: 'RunContainerError', message });
      await this.#refresh();
      return;
    }
    st.waiting.delete(c.name);
    st.started.add(id);
    this.#o.events.event(pod, 'Normal', 'Started', `Started container ${c.name}`);
    const startedAt = Date.now();
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      const failure = await this.#o.deps.runHook(pod, c, id, postStart, podIP, Number(spec(pod).terminationGracePeriodSeconds ?? 30));
      if (failure) {
        this.#o.events.event(pod, 'Warning', 'FailedPostStartHook', failure);
        await cri.stopContainer(id, 0).catch(() => {});
      }
    }
    if (kind === 'regular' || c.restartPolicy === 'Always') this.#o.deps.probes.addContainer(pod, c, id, podIP, startedAt);
    this.#rt.noteContainer({
      id, sandboxId: sandbox.id, uid: st.uid, name: c.name, kind, attempt, state: 'running', createdAt: startedAt, startedAt,
      image, logPath: path.join(this.#logDir(pod), config.logPath ?? ''),
    });
  }

  /**
   * The image for a container per its imagePullPolicy, pulled if needed (with the pod's
   * imagePullSecrets); undefined (and a waiting reason) if not there. Events and messages
   * are the kubelet's (pkg/kubelet/images/image_manager.go).
   */
  async #ensureImage(pod: KObject, st: PodState, c: Json): Promise<string | undefined> {
    const cri = this.#o.cri;
    const events = this.#o.events;
    const image = String(c.image);
    // The API server defaults imagePullPolicy; this is only for objects that skipped it.
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image);
    if (policy !== 'Always') {
      if ((await cri.imageStatus(image)).image) {
        events.event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
        return image;
      }
      if (policy === 'Never') {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        if (st.waiting.get(c.name)?.reason !== 'ErrImageNeverPull') {
          events.event(pod, 'Warning', 'ErrImageNeverPull', message);
          events.event(pod, 'Warning', 'Failed', 'Error: ErrImageNeverPull');
        }
        st.waiting.set(c.name, { reason: 'ErrImageNeverPull', message });
        this.#queue.addAfter(st.key, 10_000);
        return undefined;
      }
    }
    // Backoff per pod and image, as the kubelet keys it.
    const key = `${st.uid}/pull/${image}`;
    const prev = st.waiting.get(c.name) as (Waiting & { at?: number; pullError?: string }) | undefined;
    if ((prev?.reason === 'ErrImagePull' || prev?.reason === 'ImagePullBackOff') && prev.pullError !== undefined) {
      const wait = this.#pulls.remaining(key, prev.at ?? 0, Date.now());
      if (wait > 0) {
        const backOff = `Back-off pulling image "${image}"`;
        if (prev.reason !== 'ImagePullBackOff') {
          events.event(pod, 'Normal', 'BackOff', backOff);
          events.event(pod, 'Warning', 'Failed', 'Error: ImagePullBackOff');
        }
        st.waiting.set(c.name, { ...prev, reason: 'ImagePullBackOff', message: `${backOff}: ErrImagePull: ${prev.pullError}` } as Waiting);
        this.#queue.addAfter(st.key, wait + 50);
        return undefined;
      }
    }
    const ns = pod.metadata.namespace ?? 'default';
    const { secrets, missing } = await podPullSecrets(pod, (n, name) => this.#o.client.resource('', 'v1', 'secrets').tryGet(n, name));
    if (missing.length) {
      events.event(pod, 'Warning', 'FailedToRetrieveImagePullSecret',
        `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`);
    }
    const creds = credentialsFor(image, secrets);
    events.event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = Date.now();
    let pullError: unknown;
    // Like the kubelet: each matching credential in turn, anonymous when none matches.
    for (const auth of creds.length ? creds.map((x) => x.auth) : [undefined]) {
      try {
        await cri.pullImage(image, auth, this.#sandboxConfig(pod, 0));
        pullError = undefined;
        break;
      } catch (err) {
        pullError ??= err;
        if (creds.length > 1) this.#log.info('pull with a credential failed', { pod: `${ns}/${pod.metadata.name}`, image, error: (err as Error).message });
      }
    }
    if (pullError !== undefined) {
      const message = kubeletRpcError(pullError);
      events.event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
      events.event(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
      this.#pulls.retried(key, Date.now());
      st.waiting.set(c.name, { reason: 'ErrImagePull', message, at: Date.now(), pullError: message } as Waiting);
      // The next sync (soon) shows ImagePullBackOff; the pull is retried when the backoff ends.
      this.#queue.addAfter(st.key, 1_000);
      return undefined;
    }
    this.#pulls.forget(key);
    const ms = Date.now() - t0;
    const size = await cri.imageStatus(image).then((r) => r.image?.size, () => undefined);
    events.event(pod, 'Normal', 'Pulled',
      `Successfully pulled image "${image}" in ${goDuration(ms)} (${goDuration(ms)} including waiting).${size !== undefined ? ` Image size: ${size} bytes.` : ''}`);
    return image;
  }

  async #killContainer(pod: KObject, c: Json | undefined, inst: RtContainer, graceSeconds: number): Promise<void> {
    const deadline = Date.now() + graceSeconds * 1000;
    this.#o.deps.probes.removeContainer(inst.uid, inst.name);
    const preStop = c?.lifecycle?.preStop;
    if (preStop && inst.state === 'running' && graceSeconds > 0) {
      const failure = await this.#o.deps.runHook(pod, c!, inst.id, preStop, this.#rt.get(inst.uid).sandboxes[0]?.ips[0] ?? this.#o.nodeIP, graceSeconds);
      if (failure) this.#o.events.event(pod, 'Warning', 'FailedPreStopHook', failure);
    }
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    await this.#o.cri.stopContainer(inst.id, left).catch((err) => { if (!criNotFound(err)) throw err; });
  }

  /** Stops every container (in parallel, each with the grace period) and the sandbox. */
  async #stopPod(pod: KObject, st: PodState, graceSeconds: number): Promise<void> {
    const rt = this.#rt.get(st.uid);
    const s = spec(pod);
    const all = [...(s.containers ?? []), ...(s.initContainers ?? [])] as Json[];
    await Promise.all(rt.containers.filter((c) => c.state === 'running' || c.state === 'created').map((c) =>
      this.#killContainer(pod, all.find((x) => x.name === c.name), c, graceSeconds)));
    for (const sb of rt.sandboxes.filter((x) => x.ready)) await this.#o.cri.stopPodSandbox(sb.id).catch((err) => { if (!criNotFound(err)) throw err; });
    this.#o.deps.probes.removePod(st.uid);
    await this.#refresh();
  }

  /** Graceful deletion: stop everything within the grace period, clean up, then remove the pod object. */
  async #terminate(pod: KObject, st: PodState): Promise<void> {
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? spec(pod).terminationGracePeriodSeconds ?? 30);
    const running = this.#rt.get(st.uid).containers.some((c) => c.state === 'running');
    if (running) this.#o.events.event(pod, 'Normal', 'Killing', `Stopping container ${spec(pod).containers?.map((c: Json) => c.name).join(', ')}`);
    await this.#stopPod(pod, st, grace);
    await this.#removeAll(st.uid);
    try {
      await this.#pods.delete(pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: st.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    this.#forget(st.uid);
  }

  async #removeAll(uid: string): Promise<void> {
    const rt = this.#rt.get(uid);
    for (const c of rt.containers) await this.#o.cri.removeContainer(c.id).catch(() => {});
    for (const s of rt.sandboxes) {
      await this.#o.cri.stopPodSandbox(s.id).catch(() => {});
      await this.#o.cri.removePodSandbox(s.id).catch((err) => { if (!criNotFound(err)) throw err; });
    }
    await this.#o.deps.tearDownVolumes({ uid });
    await this.#refresh();
  }

  async #removeOrphan(uid: string): Promise<void> {
    if (this.#informer.byIndex('byUid', uid).length) return;
    const rt = this.#rt.get(uid);
    if (!rt.sandboxes.length && !rt.containers.length && !this.#state.has(uid)) return;
    this.#log.info('removing containers of a pod that is gone', { uid });
    await Promise.all(rt.containers.filter((c) => c.state === 'running').map((c) => this.#o.cri.stopContainer(c.id, 10).catch(() => {})));
    await this.#removeAll(uid);
    this.#forget(uid);
  }

  #forget(uid: string): void {
    this.#state.delete(uid);
    this.#crashes.forget(`${uid}/`);
    this.#pulls.forget(`${uid}/`);
    this.#o.deps.probes.removePod(uid);
  }

  async #writeStatus(pod: KObject, st: PodState): Promise<void> {
    const rt = this.#rt.get(st.uid);
    const sandbox = newest(rt.sandboxes);
    const ours = buildPodStatus(pod, {
      sandbox, containers: sandbox ? rt.containers.filter((c) => c.sandboxId === sandbox.id) : [], waiting: st.waiting,
      ready: (name) => this.#o.deps.probes.ready(st.uid, name), started: (name) => this.#o.deps.probes.started(st.uid, name),
      hostIP: this.#o.nodeIP, now: Date.now(), failed: st.failed,
    });
    let current = pod;
    for (let attempt = 0; attempt < 5; attempt++) {
      const status = mergePodStatus(current.status, ours);
      const text = JSON.stringify(status);
      if (text === st.written || text === JSON.stringify(current.status ?? {})) { st.written = text; return; }
      try {
        await this.#pods.updateStatus({ ...current, status });
        st.written = text;
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
        const fresh = await this.#pods.tryGet(pod.metadata.namespace, pod.metadata.name!);
        if (!fresh || fresh.metadata.uid !== st.uid) return;
        current = fresh;
      }
    }
  }

  // ---- streaming backend (kubectl logs/exec/attach/port-forward) -----------------------

  #podByName(namespace: string, name: string): KObject | undefined {
    return this.#informer.get(`${namespace}/${name}`);
  }

  container(namespace: string, name: string, container: string): ContainerRef | undefined {
    const pod = this.#podByName(namespace, name);
    if (!pod) return undefined;
    const s = spec(pod);
    const c = [...(s.containers ?? []), ...(s.initContainers ?? [])].find((x: Json) => x.name === container);
    if (!c) return undefined;
    const [latest, previous] = instancesOf(this.#rt.get(pod.metadata.uid!).containers, container);
    if (!latest) return undefined;
    const sandbox = newest(this.#rt.get(pod.metadata.uid!).sandboxes);
    return {
      containerId: latest.id, podSandboxId: latest.sandboxId, logPath: latest.logPath ?? '',
      ...(previous?.logPath ? { previousLogPath: previous.logPath } : {}),
      tty: c.tty === true, stdin: c.stdin === true, running: latest.state === 'running' && !!sandbox,
    };
  }

  sandbox(namespace: string, name: string): { podSandboxId: string } | undefined {
    const pod = this.#podByName(namespace, name);
    const sb = pod && newest(this.#rt.get(pod.metadata.uid!).sandboxes.filter((s) => s.ready));
    return sb ? { podSandboxId: sb.id } : undefined;
  }

  exec(containerId: string, cmd: string[], o: StreamFlags): Promise<string> {
    return this.#o.cri.exec({ containerId, cmd, ...o });
  }

  attach(containerId: string, o: StreamFlags): Promise<string> {
    return this.#o.cri.attach({ containerId, ...o });
  }

  portForward(podSandboxId: string, ports: number[]): Promise<string> {
    return this.#o.cri.portForward(podSandboxId, ports);
  }
}

function newest(sandboxes: RtSandbox[]): RtSandbox | undefined {
  return [...sandboxes].sort((a, b) => b.attempt - a.attempt || b.createdAt - a.createdAt)[0];
}

/** Go's duration format for whole seconds: 10s, 1m20s, 5m0s. */
function formatSeconds(s: number): string {
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}

