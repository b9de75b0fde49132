// Builds an OCI image archive: a tar of an OCI image layout (oci-layout, index.json,
// blobs/sha256/*) holding one image — its layers (uncompressed tars), config and
// manifest. `ctr -n k8s.io images import FILE` names the image after the index's
// `io.containerd.image.name` annotation, which we set to the full reference.
// Deterministic: the same spec gives the same bytes (fixed mtimes and `created`, JSON
// written with a fixed key order).
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { createTar, type TarEntry } from './tar.ts';

export const MEDIA_TYPE_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_TYPE_LAYER = 'application/vnd.oci.image.layer.v1.tar';
/** containerd's annotation for the image name on import (images.AnnotationImageName). */
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

/** A fixed creation time, so that rebuilds are byte-identical. */
export const DEFAULT_CREATED = '1970-01-01T00:00:00Z';

export interface ImageConfigSpec {
  cmd?: string[];
  entrypoint?: string[];
  /** "KEY=value"; PATH defaults to DEFAULT_PATH when not given. */
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** e.g. ["80/tcp"] */
  exposedPorts?: string[];
  stopSignal?: string;
}

export interface ImageSpec {
  /** Full reference, e.g. "skiff.local/busybox:1". */
  name: string;
  /** One list of entries per layer, lowest first. */
  layers: TarEntry[][];
  config?: ImageConfigSpec;
  /** Default: the architecture of this Node process in OCI terms (amd64 on x86_64). */
  architecture?: string;
  /** RFC 3339; default DEFAULT_CREATED. */
  created?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface OciArchive {
  name: string;
  /** The archive itself (a tar). */
  data: Buffer;
  /** Digest of the manifest: the image's identity in containerd ("ctr images ls" DIGEST). */
  manifestDigest: string;
  configDigest: string;
  layerDigests: string[];
  /** sha256 of each uncompressed layer; equal to layerDigests since layers are stored uncompressed. */
  diffIds: string[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Node's process.arch in OCI/GOARCH terms. */
export function ociArchitecture(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[arch] ?? arch;
}

/**
 * A fully qualified reference with a tag ("host/path:tag"): ctr import stores the name
 * verbatim, while the CRI plugin normalizes what pods ask for ("busybox:1" becomes
 * "docker.io/library/busybox:1"), so only a name whose first component is a host (has a
 * "." or ":" or is "localhost") is found under the same name both ways.
 */
export function validateImageName(name: string): void {
  const ok = /^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name);
  const host = name.split('/')[0]!;
  if (!ok || !(host.includes('.') || host.includes(':') || host === 'localhost')) {
    throw new Error(`invalid image reference ${JSON.stringify(name)}: want a fully qualified host/path:tag, e.g. skiff.local/pause:1`);
  }
}

/** The blobs of one image: its layers, config and manifest, with their digests. */
export interface ImageBlobs {
  name: string;
  architecture: string;
  layers: { digest: string; data: Buffer }[];
  config: { digest: string; data: Buffer };
  manifest: { digest: string; data: Buffer; mediaType: string };
  diffIds: string[];
}

/** The image's layers (uncompressed tars), config and OCI manifest, as bytes. Deterministic. */
export function buildImageBlobs(spec: ImageSpec): ImageBlobs {
  validateImageName(spec.name);
  const created = spec.created ?? DEFAULT_CREATED;
  const architecture = spec.architecture ?? ociArchitecture();
  const layers = spec.layers.map((entries) => {
    const data = createTar(entries);
    return { digest: sha256(data), data };
  });
  const layerDescs: Descriptor[] = layers.map((l) => ({ mediaType: MEDIA_TYPE_LAYER, digest: l.digest, size: l.data.length }));
  const diffIds = layerDescs.map((d) => d.digest);

  const c = spec.config ?? {};
  const env = [...(c.env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${DEFAULT_PATH}`);
  const config: Record<string, unknown> = { Env: env };
  if (c.user !== undefined) config.User = c.user;
  if (c.exposedPorts?.length) config.ExposedPorts = Object.fromEntries([...c.exposedPorts].sort().map((p) => [p, {}]));
  if (c.entrypoint !== undefined) config.Entrypoint = c.entrypoint;
  if (c.cmd !== undefined) config.Cmd = c.cmd;
  config.WorkingDir = c.workingDir ?? '/';
  if (c.labels !== undefined) config.Labels = Object.fromEntries(Object.entries(c.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (c.stopSignal !== undefined) config.StopSignal = c.stopSignal;

  const configJson = Buffer.from(
    JSON.stringify({
      created,
      architecture,
      os: 'linux',
      config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: layerDescs.map(() => ({ created, created_by: 'skiff image builder' })),
    }),
  );
  const configDesc: Descriptor = { mediaType: MEDIA_TYPE_CONFIG, digest: sha256(configJson), size: configJson.length };

  const manifestJson = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_MANIFEST, config: configDesc, layers: layerDescs }),
  );
  return {
    name: spec.name,
    architecture,
    layers,
    config: { digest: configDesc.digest, data: configJson },
    manifest: { digest: sha256(manifestJson), data: manifestJson, mediaType: MEDIA_TYPE_MANIFEST },
    diffIds,
  };
}

export function buildOciArchive(spec: ImageSpec): OciArchive {
  const img = buildImageBlobs(spec);
  const architecture = img.architecture;
  const blobs = new Map<string, Buffer>();
  for (const b of [...img.layers, img.config]) blobs.set(b.digest, b.data);
  const manifestJson = img.manifest.data;
  const manifestDigest = img.manifest.digest;
  blobs.set(manifestDigest, manifestJson);
  const configDesc = { digest: img.config.digest };
  const layerDescs = img.layers.map((l) => ({ digest: l.digest }));
  const diffIds = img.diffIds;

  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_INDEX,
    manifests: [
      {
        mediaType: MEDIA_TYPE_MANIFEST,
        digest: manifestDigest,
        size: manifestJson.length,
        annotations: { [ANNOTATION_CONTAINERD_NAME]: spec.name, [ANNOTATION_REF_NAME]: spec.name },
        platform: { architecture, os: 'linux' },
      },
    ],
  };

  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', data: JSON.stringify(index) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
  ];
  for (const digest of [...blobs.keys()].sort()) {
    entries.push({ type: 'file', path: `blobs/sha256/${digest.slice('sha256:'.length)}`, data: blobs.get(digest)! });
  }
  return {
    name: spec.name,
    data: createTar(entries),
    manifestDigest,
    configDigest: configDesc.digest,
    layerDigests: layerDescs.map((d) => d.digest),
    diffIds,
  };
}

/** buildOciArchive, written to `file` atomically (a temporary file renamed into place). */
export async function writeOciArchive(file: string, spec: ImageSpec): Promise<OciArchive> {
  const archive = buildOciArchive(spec);
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, archive.data);
  await rename(tmp, file);
  return archive;
}
