// Image pull credentials from a pod's imagePullSecrets, as the kubelet's credential
// provider keyring finds them (pkg/credentialprovider/keyring.go):
//
// - secrets of type kubernetes.io/dockerconfigjson (`.dockerconfigjson`: {"auths": {...}})
//   or kubernetes.io/dockercfg (`.dockercfg`: the map itself); an entry's `auth`
//   (base64 "user:password") gives username and password when they are not set;
// - keys are schemeless URLs: "host[:port][/path]", "https://" and "/v1/" or "/v2/"
//   prefixes dropped; a key matches an image when the hosts match part by part (globs
//   allowed: "*.example.com"), the ports are equal and the key's path is a prefix of the
//   image's repository path;
// - more specific keys first (the keyring's reverse-sorted index); every matching
//   credential is tried in turn, and without a match the image is pulled anonymously;
// - Docker Hub: "index.docker.io/v1/" (what `docker login` writes) matches docker.io images.
//
// The result goes to the CRI as AuthConfig (username/password) on PullImage.
import type { KObject } from '../../api/object.ts';
import type { AuthConfig } from '../cri/types.ts';

export interface PullCredential {
  /** the key it was found under, normalized ("127.0.0.1:5000", "index.docker.io") */
  key: string;
  /** the secret it came from */
  secret: string;
  auth: AuthConfig;
}

const DOCKER_HUB_KEYS = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io']);

/** "busybox:1" → "docker.io/library/busybox"; the repository of an image reference without tag or digest. */
export function imageRepository(image: string): string {
  let ref = image.split('@')[0]!;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const first = ref.split('/')[0]!;
  const hasHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasHost) return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
  return ref;
}

/** A keyring key as the kubelet stores it: schemeless, /v1/ or /v2/ dropped. */
export function normalizeKey(loc: string): string {
  let url: URL;
  try {
    url = new URL(/^https?:\/\//.test(loc) ? loc : `https://${loc}`);
  } catch {
    return loc;
  }
  let p = decodeURIComponent(url.pathname);
  if (p.startsWith('/v2/') || p.startsWith('/v1/')) p = p.slice(3);
  return p && p !== '/' ? `${url.host}${p}` : url.host;
}

function globPart(glob: string, s: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]')}$`);
  return re.test(s);
}

function splitHostPort(hostPort: string): [string, string] {
  const m = /^(.*?)(?::(\d+))?$/.exec(hostPort)!;
  return [m[1]!, m[2] ?? ''];
}

/** The kubelet's URLsMatchStr(key, repository). */
export function keyMatches(key: string, repository: string): boolean {
  const [kHostPort, ...kPath] = key.split('/');
  const [tHostPort, ...tPath] = repository.split('/');
  const [kHost, kPort] = splitHostPort(kHostPort!);
  const [tHost, tPort] = splitHostPort(tHostPort!);
  const kParts = kHost.split('.');
  const tParts = tHost.split('.');
  if (kParts.length !== tParts.length || kPort !== tPort) return false;
  if (!kParts.every((g, i) => globPart(g, tParts[i]!))) return false;
  return `/${tPath.join('/')}`.startsWith(`/${kPath.join('/')}`);
}

function entriesOf(secret: KObject): Record<string, any> | undefined {
  const data = (secret as any).data ?? {};
  const decode = (k: string): any => {
    if (typeof data[k] !== 'string') return undefined;
    try {
      return JSON.parse(Buffer.from(data[k], 'base64').toString('utf8'));
    } catch {
      return undefined;
    }
  };
  const json = decode('.dockerconfigjson');
  if (json && typeof json === 'object') return json.auths && typeof json.auths === 'object' ? json.auths : undefined;
  const cfg = decode('.dockercfg');
  return cfg && typeof cfg === 'object' ? cfg : undefined;
}

/** Every credential of the secrets that applies to `image`, most specific key first. */
export function credentialsFor(image: string, secrets: KObject[]): PullCredential[] {
  const repository = imageRepository(image);
  const all: PullCredential[] = [];
  for (const secret of secrets) {
    const entries = entriesOf(secret);
    if (!entries) continue;
    for (const [loc, e] of Object.entries(entries)) {
      if (!e || typeof e !== 'object') continue;
      let username: string | undefined = typeof e.username === 'string' ? e.username : undefined;
      let password: string | undefined = typeof e.password === 'string' ? e.password : undefined;
      if (typeof e.auth === 'string' && e.auth && username === undefined && password === undefined) {
        const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i < 0) continue; // the kubelet rejects an auth without a colon
        username = decoded.slice(0, i);
        password = decoded.slice(i + 1);
      }
      const auth: AuthConfig = {};
      if (username) auth.username = username;
      if (password) auth.password = password;
      if (typeof e.identitytoken === 'string' && e.identitytoken) auth.identityToken = e.identitytoken;
      if (!auth.username && !auth.password && !auth.identityToken) continue;
      all.push({ key: normalizeKey(loc), secret: String(secret.metadata?.name ?? ''), auth });
    }
  }
  // The keyring's index is reverse-sorted so that longer (more specific) keys come first.
  const keys = [...new Set(all.map((c) => c.key))].sort().reverse();
  const out: PullCredential[] = [];
  for (const k of keys) {
    if (keyMatches(k, repository)) out.push(...all.filter((c) => c.key === k));
  }
  if (!out.length && repository.startsWith('docker.io/')) {
    out.push(...all.filter((c) => DOCKER_HUB_KEYS.has(c.key.replace(/\/$/, '')) || c.key === 'index.docker.io/v1'));
  }
  return out;
}

/** The pod's pull secrets that exist, and the names of those that do not (or could not be read). */
export async function podPullSecrets(pod: KObject, getSecret: (ns: string, name: string) => Promise<KObject | undefined>): Promise<{ secrets: KObject[]; missing: string[] }> {
  const ns = pod.metadata.namespace ?? 'default';
  const refs = ((pod as any).spec?.imagePullSecrets ?? []) as { name?: string }[];
  const secrets: KObject[] = [];
  const missing: string[] = [];
  for (const ref of refs) {
    if (!ref?.name) continue;
    try {
      const s = await getSecret(ns, ref.name);
      if (s) secrets.push(s);
      else missing.push(ref.name);
    } catch {
      missing.push(ref.name);
    }
  }
  return { secrets, missing };
}

/** Go's time.Duration String() for a whole number of milliseconds: "512ms", "1.234s", "1m2.5s". */
export function goDuration(ms: number): string {
  ms = Math.max(0, Math.trunc(ms));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${String(Number(s.toFixed(3)))}s`;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}`;
}

const GO_CODES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** A CRI error as the kubelet prints it (a Go gRPC status): "rpc error: code = NotFound desc = ...". */
export function kubeletRpcError(err: unknown): string {
  const e = err as { grpcCode?: number; details?: string; message?: string };
  if (typeof e?.grpcCode === 'number') return `rpc error: code = ${GO_CODES[e.grpcCode] ?? `Code(${e.grpcCode})`} desc = ${e.details ?? ''}`;
  return String(e?.message ?? err);
}
