// Writes an image in the `docker save` format (docker-archive, Docker ≤ 24 layout):
//
//   manifest.json            [{"Config":"<config hex>.json","RepoTags":["name:tag"],"Layers":["<id>/layer.tar"]}]
//   <config hex>.json        the image config (the same JSON as in our OCI archives)
//   <id>/layer.tar           each layer, uncompressed; <id>/VERSION ("1.0") and <id>/json (v1 metadata)
//   repositories             {"name": {"tag": "<top layer id>"}}
//
// containerd's importer (`ctr images import`, k3s's image preloading) reads manifest.json,
// the config and the layers, and names the image after RepoTags, normalized the Docker way
// ("busybox:1" → "docker.io/library/busybox:1"). Used by tests to check that dropped
// docker-archive tars are imported like OCI archives. Deterministic, like the OCI writer.
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { buildImageBlobs, DEFAULT_CREATED, type ImageSpec } from './oci-archive.ts';
import { createTar, type TarEntry } from './tar.ts';

export interface DockerArchive {
  /** the archive (a tar) */
  data: Buffer;
  /** the RepoTags entries, as given */
  repoTags: string[];
  /** the image ID ("sha256:" + config digest), what `docker images --digests` calls IMAGE ID */
  imageId: string;
  /** sha256 of each layer tar (= diff_ids) */
  diffIds: string[];
}

export interface DockerArchiveSpec extends Omit<ImageSpec, 'name'> {
  /**
   * RepoTags: Docker-style names, short ("busybox:1", "team/app:2") or with a registry
   * ("registry.example/team/app:2"). At least one.
   */
  tags: string[];
}

const hex = (digest: string) => digest.replace(/^sha256:/, '');

export function buildDockerArchive(spec: DockerArchiveSpec): DockerArchive {
  if (!spec.tags.length) throw new Error('docker archive: at least one tag');
  for (const t of spec.tags) {
    if (!/^[a-z0-9]+(?:[._:-][a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(t)) {
      throw new Error(`docker archive: invalid tag ${JSON.stringify(t)} (want name:tag)`);
    }
  }
  // buildImageBlobs wants a fully qualified name; the name is not part of any blob.
  const img = buildImageBlobs({ ...spec, name: 'skiff.local/docker-archive:1' });
  const created = spec.created ?? DEFAULT_CREATED;
  // Docker's v1 layer ids: a chain of hashes over the layer digests (any stable unique id works).
  const ids: string[] = [];
  let parent = '';
  for (const l of img.layers) {
    const id = createHash('sha256').update(`${parent}\n${l.digest}`).digest('hex');
    ids.push(id);
    parent = id;
  }
  const configFile = `${hex(img.config.digest)}.json`;
  const entries: TarEntry[] = [];
  img.layers.forEach((l, i) => {
    const id = ids[i]!;
    const v1: Record<string, unknown> = { id, created, os: 'linux', architecture: img.architecture };
    if (i > 0) v1.parent = ids[i - 1];
    entries.push(
      { type: 'dir', path: id },
      { type: 'file', path: `${id}/VERSION`, data: '1.0' },
      { type: 'file', path: `${id}/json`, data: JSON.stringify(v1) },
      { type: 'file', path: `${id}/layer.tar`, data: l.data },
    );
  });
  entries.push({ type: 'file', path: configFile, data: img.config.data });
  const manifest = [{ Config: configFile, RepoTags: spec.tags, Layers: ids.map((id) => `${id}/layer.tar`) }];
  entries.push({ type: 'file', path: 'manifest.json', data: JSON.stringify(manifest) });
  const repositories: Record<string, Record<string, string>> = {};
  for (const t of spec.tags) {
    const colon = t.lastIndexOf(':');
    (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = ids[ids.length - 1] ?? '';
  }
  entries.push({ type: 'file', path: 'repositories', data: JSON.stringify(repositories) });
  return { data: createTar(entries), repoTags: spec.tags, imageId: img.config.digest, diffIds: img.diffIds };
}

/** buildDockerArchive, written to `file` atomically. */
export async function writeDockerArchive(file: string, spec: DockerArchiveSpec): Promise<DockerArchive> {
  const archive = buildDockerArchive(spec);
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, archive.data);
  await rename(tmp, file);
  return archive;
}
