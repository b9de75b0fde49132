// One agent's pod volumes, laid out as the kubelet lays them out:
//
//   <agentDir>/pods/<podUID>/volumes/kubernetes.io~empty-dir/<name>     (tmpfs if medium: Memory)
//   <agentDir>/pods/<podUID>/volumes/kubernetes.io~configmap/<name>     (disk)
//   <agentDir>/pods/<podUID>/volumes/kubernetes.io~secret/<name>        (tmpfs)
//   <agentDir>/pods/<podUID>/volumes/kubernetes.io~downward-api/<name>  (tmpfs)
//   <agentDir>/pods/<podUID>/volumes/kubernetes.io~projected/<name>     (tmpfs)
//
// hostPath volumes are the host path itself and never live under the pod dir. setUp is
// idempotent (the worker may call it on every sync); update re-projects only the API data
// volumes; tearDown unmounts everything under the pod dir, then deletes it without ever
// following a symlink or crossing into another filesystem.
import { lstat, mkdir, readdir, realpath, rmdir, unlink, chmod } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { KObject } from '../../api/object.ts';
import type { Mount } from '../cri/types.ts';
import { atomicWrite } from './atomic-writer.ts';
import { VolumeError } from './errors.ts';
import { checkHostPathType } from './hostpath.ts';
import { emptyDirMemorySize } from './memory-size.ts';
import { SystemMounter, type Mounter } from './mounter.ts';
import { containerMounts, type ContainerMountOptions } from './mounts.ts';
import { DEFAULT_MODE, configMapPayload, downwardAPIPayload, projectedPayload, secretPayload } from './payload.ts';
import type { Payload, PluginDir, PodVolumeMap, VolumeDeps, VolumeInfo } from './types.ts';

type Json = Record<string, any>;

export interface PodVolumesOptions {
  mounter?: Mounter;
  /**
   * false: never mount tmpfs (Memory emptyDirs and secret/downwardAPI/projected volumes
   * stay on disk). Only for a non-root development agent; the kubelet has no such mode.
   */
  tmpfs?: boolean;
  /** Clock for the AtomicWriter's timestamped directory names. */
  now?: () => Date;
}

const API_DATA: Record<string, { plugin: PluginDir; memory: boolean }> = {
  configMap: { plugin: 'kubernetes.io~configmap', memory: false },
  secret: { plugin: 'kubernetes.io~secret', memory: true },
  downwardAPI: { plugin: 'kubernetes.io~downward-api', memory: true },
  projected: { plugin: 'kubernetes.io~projected', memory: true },
};

const SAFE_NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/;

function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !SAFE_NAME.test(name) || name.includes('..')) throw new VolumeError(`invalid ${what} ${JSON.stringify(name)}`);
  return name;
}

const within = (base: string, p: string): boolean => p === base || p.startsWith(base + sep);

export class PodVolumes {
  readonly #mounter: Mounter;
  readonly #tmpfs: boolean;
  readonly #now: () => Date;
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly agentDir: string,
    opts: PodVolumesOptions = {},
  ) {
    this.#mounter = opts.mounter ?? new SystemMounter();
    this.#tmpfs = opts.tmpfs ?? true;
    this.#now = opts.now ?? (() => new Date());
  }

  podDir(podUID: string): string {
    return join(this.agentDir, 'pods', checkName('pod UID', podUID));
  }

  volumeDir(podUID: string, plugin: PluginDir, name: string): string {
    return join(this.podDir(podUID), 'volumes', plugin, checkName('volume name', name));
  }

  /**
   * Sets up every volume of the pod (idempotent). Tries them all; if any failed, throws the
   * first VolumeError with all of them in `.errors`.
   */
  setUp(pod: KObject, deps: VolumeDeps): Promise<PodVolumeMap> {
    return this.#serial(pod.metadata.uid ?? '', () => this.#run(pod, deps, false));
  }

  /** Re-projects configMap, secret, downwardAPI and projected volumes (AtomicWriter: readers never see a partial set). */
  update(pod: KObject, deps: VolumeDeps): Promise<PodVolumeMap> {
    return this.#serial(pod.metadata.uid ?? '', () => this.#run(pod, deps, true));
  }

  containerMounts(container: Json, volumes: PodVolumeMap, opts?: ContainerMountOptions): Promise<Mount[]> {
    return containerMounts(container, volumes, opts);
  }

  /** Unmounts every mount under the pod dir (deepest first) and removes the dir. */
  tearDown(podUID: string): Promise<void> {
    return this.#serial(podUID, () => this.#tearDown(podUID));
  }

  async #serial<T>(uid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(uid) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.#locks.set(uid, settled);
    try {
      return await next;
    } finally {
      if (this.#locks.get(uid) === settled) this.#locks.delete(uid);
    }
  }

  async #run(pod: KObject, deps: VolumeDeps, refreshOnly: boolean): Promise<PodVolumeMap> {
    const uid = checkName('pod UID', pod.metadata.uid);
    const result: PodVolumeMap = new Map();
    const errors: VolumeError[] = [];
    let mounted: Set<string> | undefined;
    const isMounted = async (dir: string): Promise<boolean> => {
      mounted ??= new Set((await this.#mounter.mounts()).map((m) => m.mountPoint));
      const real = await realpath(dir).catch(() => dir);
      return mounted.has(real);
    };
    for (const vol of ((pod.spec as Json | undefined)?.volumes ?? []) as Json[]) {
      try {
        const info = await this.#setUpVolume(uid, pod, vol, deps, refreshOnly, isMounted);
        result.set(vol.name, info);
      } catch (err) {
        errors.push(err instanceof VolumeError && err.volume !== undefined ? err : new VolumeError((err as Error).message, vol.name, { cause: err }));
      }
    }
    if (errors.length > 0) {
      errors[0]!.errors = errors;
      throw errors[0];
    }
    return result;
  }

  async #setUpVolume(uid: string, pod: KObject, vol: Json, deps: VolumeDeps, refreshOnly: boolean, isMounted: (dir: string) => Promise<boolean>): Promise<VolumeInfo> {
    const name = checkName('volume name', vol.name);
    if (vol.hostPath) {
      const path = String(vol.hostPath.path ?? '');
      if (!path.startsWith('/')) throw new VolumeError(`hostPath ${JSON.stringify(path)} must be an absolute path`, name);
      if (!refreshOnly) await checkHostPathType(path, vol.hostPath.type);
      return { hostPath: path, readOnly: false, plugin: 'kubernetes.io~host-path' };
    }
    if (vol.emptyDir) {
      const dir = this.volumeDir(uid, 'kubernetes.io~empty-dir', name);
      if (refreshOnly) return { hostPath: dir, readOnly: false, plugin: 'kubernetes.io~empty-dir' };
      const medium = vol.emptyDir.medium ?? '';
      if (medium !== '' && medium !== 'Memory') throw new VolumeError(`unsupported emptyDir medium "${medium}"`, name);
      await this.#ensureDir(dir);
      if (medium === 'Memory' && this.#tmpfs && !(await isMounted(dir))) {
        await this.#mounter.mountTmpfs(dir, emptyDirMemorySize(pod, vol.emptyDir.sizeLimit, deps.nodeAllocatable));
      }
      return { hostPath: dir, readOnly: false, plugin: 'kubernetes.io~empty-dir' };
    }
    const kind = Object.keys(API_DATA).find((k) => vol[k]);
    if (kind) {
      const { plugin, memory } = API_DATA[kind]!;
      const dir = this.volumeDir(uid, plugin, name);
      // Compute the files first: a failure leaves nothing half set up.
      const payload = await this.#payload(kind, vol[kind], pod, deps);
      await this.#ensureDir(dir);
      if (memory && this.#tmpfs && !(await isMounted(dir))) {
        await this.#mounter.mountTmpfs(dir, emptyDirMemorySize(pod, undefined, deps.nodeAllocatable));
      }
      try {
        await atomicWrite(dir, payload, this.#now);
      } catch (err) {
        throw new VolumeError((err as Error).message, name, { cause: err });
      }
      return { hostPath: dir, readOnly: true, plugin };
    }
    const source = Object.keys(vol).find((k) => k !== 'name') ?? 'none';
    throw new VolumeError(`unsupported volume source "${source}"`, name);
  }

  async #payload(kind: string, src: Json, pod: KObject, deps: VolumeDeps): Promise<Payload> {
    switch (kind) {
      case 'configMap':
        return configMapPayload(src, pod, deps);
      case 'secret':
        return secretPayload(src, pod, deps);
      case 'downwardAPI':
        return downwardAPIPayload(src.items, pod, deps, typeof src.defaultMode === 'number' ? src.defaultMode : DEFAULT_MODE);
      default:
        return projectedPayload(src, pod, deps);
    }
  }

  /** The emptyDir wrapper: the volume dir, 0777 like the kubelet's setupDir. */
  async #ensureDir(dir: string): Promise<void> {
    await mkdir(join(dir, '..'), { recursive: true, mode: 0o750 });
    try {
      await mkdir(dir, { mode: 0o777 });
      await chmod(dir, 0o777);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!(await lstat(dir)).isDirectory()) throw new Error(`${dir} exists and is not a directory`);
    }
  }

  async #tearDown(podUID: string): Promise<void> {
    const podDir = this.podDir(podUID);
    let l;
    try {
      l = await lstat(podDir);
    } catch {
      return; // already gone
    }
    if (!l.isDirectory()) {
      await unlink(podDir); // a symlink or file where the pod dir was: remove the entry, not its target
      return;
    }
    const real = await realpath(podDir);
    const under = async (): Promise<string[]> =>
      (await this.#mounter.mounts()).map((m) => m.mountPoint).filter((p) => within(real, p));

    // Deepest first; a mount point listed twice is stacked and needs two unmounts.
    const points = (await under()).sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
    const failures: string[] = [];
    for (const p of points) {
      try {
        await this.#mounter.unmount(p);
      } catch (err) {
        failures.push(`${p}: ${(err as Error).message.trim()}`);
      }
    }
    const left = await under();
    if (left.length > 0) {
      throw new VolumeError(`pod ${podUID}: cannot remove the pod dir, still mounted: ${left.join(', ')}${failures.length ? ` (${failures.join('; ')})` : ''}`);
    }
    await removeTree(real, l.dev);
  }
}

/**
 * rm -r --one-file-system without following symlinks: symlinks are unlinked, never
 * followed, and a directory on another device (a mount we did not know about) stops it.
 */
async function removeTree(dir: string, dev: number): Promise<void> {
  for (const e of await readdir(dir)) {
    const p = join(dir, e);
    const st = await lstat(p);
    if (st.isDirectory()) {
      if (st.dev !== dev) throw new VolumeError(`refusing to remove ${p}: it is on another filesystem (a mount point)`);
      await removeTree(p, dev);
    } else {
      await unlink(p);
    }
  }
  await rmdir(dir);
}
