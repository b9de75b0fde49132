// A container's volumeMounts → CRI mounts, as the kubelet's makeMounts builds them:
// readOnly from the mount or forced for API data volumes, mountPropagation translated,
// subPath (or subPathExpr expanded from the container's env) resolved inside the volume.
//
// subPath safety: absolute paths and `..` elements are refused; missing directories are
// created (mode of the volume root) one element at a time, never through a symlink that
// leads out of the volume; the resolved path must stay inside the volume. (The kubelet
// also bind-mounts the subpath under volume-subpaths/ to pin it against later symlink
// swaps; we hand containerd the checked path directly.)
import { chmod, lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Mount, MountPropagation } from '../cri/types.ts';
import { expand } from '../env/expansion.ts';
import type { EnvVar } from '../env/types.ts';
import { VolumeError } from './errors.ts';
import type { PodVolumeMap } from './types.ts';

type Json = Record<string, any>;

export interface ContainerMountOptions {
  /** The container's resolved env, for subPathExpr. */
  env?: EnvVar[];
}

export function translatePropagation(mode: unknown): MountPropagation {
  switch (mode ?? 'None') {
    case 'None':
      return 'PROPAGATION_PRIVATE';
    case 'HostToContainer':
      return 'PROPAGATION_HOST_TO_CONTAINER';
    case 'Bidirectional':
      return 'PROPAGATION_BIDIRECTIONAL';
  }
  throw new VolumeError(`invalid MountPropagation mode: "${String(mode)}"`);
}

/** kubecontainer.ExpandContainerVolumeMounts: every referenced variable must be set and non-empty. */
export function expandSubPathExpr(expr: string, env: EnvVar[]): string {
  const vars = new Map(env.map((e) => [e.name, e.value]));
  const missing = new Set<string>();
  const out = expand(expr, (k) => {
    const v = vars.get(k);
    if (!v) missing.add(k);
    return v ?? '';
  });
  if (missing.size > 0) throw new Error(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

const within = (base: string, p: string): boolean => p === base || p.startsWith(base.endsWith(sep) ? base : base + sep);

/** Creates `subPath` under `volumePath` if missing, refusing any escape; returns the host path. */
export async function prepareSubPath(volumePath: string, subPath: string): Promise<string> {
  const base = await realpath(volumePath);
  const st = await stat(base);
  const perm = st.mode & 0o7777;
  let cur = base;
  for (const part of subPath.split('/').filter((p) => p !== '' && p !== '.')) {
    const next = join(cur, part);
    let l;
    try {
      l = await lstat(next);
    } catch {
      l = undefined;
    }
    if (!l) {
      await mkdir(next, { mode: perm });
      await chmod(next, perm);
      cur = next;
      continue;
    }
    const resolved = l.isSymbolicLink() ? await realpath(next).catch(() => undefined) : next;
    if (!resolved || !within(base, resolved)) throw new Error(`subpath "${join(volumePath, subPath)}" not within volume path "${volumePath}"`);
    cur = resolved;
  }
  return join(volumePath, subPath);
}

export async function containerMounts(container: Json, volumes: PodVolumeMap, opts: ContainerMountOptions = {}): Promise<Mount[]> {
  const mounts: Mount[] = [];
  for (const m of (container.volumeMounts ?? []) as Json[]) {
    const vol = volumes.get(m.name);
    if (!vol) throw new VolumeError(`cannot find volume "${m.name}" to mount into container "${container.name}"`, m.name);
    let hostPath = vol.hostPath;
    let subPath: string = m.subPath ?? '';
    if (m.subPathExpr) {
      try {
        subPath = expandSubPathExpr(m.subPathExpr, opts.env ?? []);
      } catch (err) {
        throw new VolumeError(`failed to prepare subPath for volumeMount "${m.name}" of container "${container.name}": ${(err as Error).message}`, m.name);
      }
    }
    if (subPath) {
      if (subPath.startsWith('/')) throw new VolumeError(`error SubPath \`${subPath}\` must not be an absolute path`, m.name);
      if (subPath.split('/').includes('..')) throw new VolumeError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`, m.name);
      try {
        hostPath = await prepareSubPath(vol.hostPath, subPath);
      } catch (err) {
        throw new VolumeError(`failed to create subPath directory for volumeMount "${m.name}" of container "${container.name}": ${(err as Error).message}`, m.name, { cause: err });
      }
    }
    const propagation = translatePropagation(m.mountPropagation);
    if (propagation === 'PROPAGATION_BIDIRECTIONAL' && container.securityContext?.privileged !== true) {
      throw new VolumeError('Bidirectional mount propagation is available only to privileged containers', m.name);
    }
    const containerPath = String(m.mountPath).startsWith('/') ? m.mountPath : `/${m.mountPath}`;
    mounts.push({ containerPath, hostPath, readonly: m.readOnly === true || vol.readOnly, propagation });
  }
  return mounts;
}
