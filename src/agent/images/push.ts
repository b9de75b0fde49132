// A small OCI distribution push client: puts one image (built from an ImageSpec) into a
// registry under repository:tag, as `docker push` / `skopeo copy` would, so tests can fill
// a real registry without Docker:
//
//   HEAD /v2/<repo>/blobs/<digest>                   200: already there, skip
//   POST /v2/<repo>/blobs/uploads/                   202, Location: <upload URL>
//   PUT  <upload URL>?digest=<digest>  (the blob)    201   (a monolithic upload)
//   PUT  /v2/<repo>/manifests/<tag>    (manifest)    201, Docker-Content-Digest
//
// Auth: HTTP Basic (distribution's htpasswd), or the token flow (401 with
// `WWW-Authenticate: Bearer realm=...,service=...` → GET realm with Basic → token).
import { buildImageBlobs, type ImageBlobs, type ImageSpec } from './oci-archive.ts';

export interface PushOptions {
  username?: string;
  password?: string;
  /** per-request timeout, default 60 s */
  timeoutMs?: number;
}

export interface PushResult {
  /** `<registry host>/<repository>:<tag>` as a pod would name it */
  reference: string;
  manifestDigest: string;
  /** blobs uploaded (the others were already in the registry) */
  uploaded: number;
}

export class PushError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = 'PushError';
    this.status = status;
  }
}

/**
 * Pushes `image` (a spec, or blobs already built) to `registry` (e.g. "http://127.0.0.1:5000")
 * as `repository:tag`. The spec's own name is ignored.
 */
export async function pushImage(registry: string, repository: string, tag: string, image: ImageSpec | ImageBlobs, opts: PushOptions = {}): Promise<PushResult> {
  const base = new URL(registry);
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)) {
    throw new Error(`invalid repository name ${JSON.stringify(repository)}`);
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) throw new Error(`invalid tag ${JSON.stringify(tag)}`);
  const blobs = 'manifest' in image ? image : buildImageBlobs({ ...image, name: 'skiff.local/push:1' });
  const client = new RegistryClient(base, repository, opts);
  let uploaded = 0;
  for (const b of [...blobs.layers, blobs.config]) {
    if (await client.hasBlob(b.digest)) continue;
    await client.uploadBlob(b.digest, b.data);
    uploaded++;
  }
  const digest = await client.putManifest(tag, blobs.manifest.data, blobs.manifest.mediaType);
  if (digest && digest !== blobs.manifest.digest) {
    throw new PushError(`registry stored the manifest as ${digest}, expected ${blobs.manifest.digest}`, 0);
  }
  return { reference: `${base.host}/${repository}:${tag}`, manifestDigest: blobs.manifest.digest, uploaded };
}

class RegistryClient {
  #base: URL;
  #repo: string;
  #opts: PushOptions;
  #authorization: string | undefined;

  constructor(base: URL, repo: string, opts: PushOptions) {
    this.#base = base;
    this.#repo = repo;
    this.#opts = opts;
  }

  async hasBlob(digest: string): Promise<boolean> {
    const res = await this.#request('HEAD', `/v2/${this.#repo}/blobs/${digest}`);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await failure(res, `HEAD blob ${digest}`);
  }

  async uploadBlob(digest: string, data: Buffer): Promise<void> {
    const start = await this.#request('POST', `/v2/${this.#repo}/blobs/uploads/`, { 'Content-Length': '0' });
    if (start.status !== 202) throw await failure(start, 'starting a blob upload');
    await start.arrayBuffer().catch(() => undefined);
    const location = start.headers.get('location');
    if (!location) throw new PushError('blob upload: no Location header in the 202', start.status);
    const url = new URL(location, this.#base);
    url.searchParams.set('digest', digest);
    const put = await this.#request('PUT', url, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.length) }, data);
    if (put.status !== 201) throw await failure(put, `uploading blob ${digest}`);
    await put.arrayBuffer().catch(() => undefined);
  }

  /** Resolves with the digest the registry reports (Docker-Content-Digest). */
  async putManifest(tag: string, data: Buffer, mediaType: string): Promise<string | undefined> {
    const res = await this.#request('PUT', `/v2/${this.#repo}/manifests/${tag}`, { 'Content-Type': mediaType }, data);
    if (res.status !== 201) throw await failure(res, `putting manifest ${this.#repo}:${tag}`);
    await res.arrayBuffer().catch(() => undefined);
    return res.headers.get('docker-content-digest') ?? undefined;
  }

  async #request(method: string, target: string | URL, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
    const url = typeof target === 'string' ? new URL(target, this.#base) : target;
    const send = () => fetch(url, {
      method,
      headers: { ...headers, ...(this.#authorization ? { Authorization: this.#authorization } : {}) },
      body: body ? new Uint8Array(body.buffer, body.byteOffset, body.length) as unknown as BodyInit : undefined,
      redirect: 'follow',
      signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 60_000),
    });
    let res = await send();
    if (res.status === 401 && (this.#opts.username !== undefined || this.#opts.password !== undefined)) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await res.arrayBuffer().catch(() => undefined);
      const fresh = await this.#authorize(challenge);
      if (fresh && fresh !== this.#authorization) {
        this.#authorization = fresh;
        res = await send();
      }
    }
    return res;
  }

  async #authorize(challenge: string): Promise<string | undefined> {
    const basic = `Basic ${Buffer.from(`${this.#opts.username ?? ''}:${this.#opts.password ?? ''}`).toString('base64')}`;
    const m = /^\s*(\w+)\s*(.*)$/.exec(challenge);
    const scheme = m?.[1]?.toLowerCase();
    if (scheme === 'basic' || !scheme) return basic;
    if (scheme !== 'bearer') return undefined;
    const params = Object.fromEntries([...m![2]!.matchAll(/(\w+)="([^"]*)"/g)].map((p) => [p[1]!, p[2]!]));
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.#repo}:pull,push`);
    const res = await fetch(url, { headers: { Authorization: basic }, signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 60_000) });
    if (!res.ok) throw await failure(res, 'getting a registry token');
    const body = await res.json() as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    return token ? `Bearer ${token}` : undefined;
  }
}

async function failure(res: Response, what: string): Promise<PushError> {
  const text = await res.text().catch(() => '');
  return new PushError(`${what}: HTTP ${res.status}${text ? `: ${text.trim().slice(0, 500)}` : ''}`, res.status);
}
