// Who an in-process component is, and the authorization every one of its requests
// passes: controllers and the scheduler run inside the server but are checked by the same
// authorizer as HTTP requests, each under its own identity (kube-controller-manager's
// --use-service-account-credentials). One check per call — a list or watch is checked
// once, not per event — and RBAC answers from maps over the watch cache, so it is cheap.
import type { KObject } from '../api/object.ts';
import type { ResourceInfo } from '../api/scheme.ts';
import type { UserInfo } from '../apiserver/authn/types.ts';
import { forbiddenError, type Authorizer } from '../apiserver/authz/authorizer.ts';
import type { Attributes } from '../apiserver/authz/types.ts';
import type { DeleteOptions, ListQuery, Registry, WriteOptions } from '../apiserver/registry/registry.ts';
import type { Logger } from '../util/log.ts';
import type { AuditLog, AuditRecord } from '../apiserver/audit/log.ts';
import { ApiError } from '../apiserver/errors.ts';

export interface InProcessIdentity {
  user: UserInfo;
  /** The server's authorizer; without one every request is allowed (unit tests, tools). */
  authz?: Authorizer;
  /** Where a denial is reported (once per user, verb and resource), so a missing rule shows. */
  log?: Logger;
  /** The server's audit log: in-process requests are audited as this user, like HTTP ones. */
  audit?: AuditLog;
  /** The audit events' userAgent (the component). */
  userAgent?: string;
}

const reported = new WeakMap<InProcessIdentity, Set<string>>();

/** Attributes of one in-process request, as the HTTP path would give them. */
export function inProcessAttributes(user: UserInfo, verb: string, r: ResourceInfo, ns: string | undefined, name = '', subresource = ''): Attributes {
  // As for HTTP, a request on a namespace object is "in" that namespace.
  const namespace = r.namespaced ? ns ?? '' : r.group === '' && r.resource === 'namespaces' ? name : '';
  return {
    user, verb, resourceRequest: true, path: '', apiGroup: r.group, apiVersion: r.version,
    resource: r.resource, subresource, namespace, name,
  };
}

/** Throws Kubernetes' 403 Forbidden (an ApiError) unless the identity may do this. */
export async function authorizeInProcess(id: InProcessIdentity | undefined, verb: string, r: ResourceInfo, ns: string | undefined, name = '', subresource = ''): Promise<void> {
  if (!id?.authz) return;
  const a = inProcessAttributes(id.user, verb, r, ns, name, subresource);
  const d = await id.authz.authorize(a);
  if (d.allowed) return;
  const err = forbiddenError(a);
  const key = `${verb} ${r.group}/${r.resource}${subresource ? `/${subresource}` : ''}`;
  let seen = reported.get(id);
  if (!seen) reported.set(id, seen = new Set());
  if (!seen.has(key) && seen.size < 1000) {
    seen.add(key);
    id.log?.error('request denied by authorization: the component lacks a permission (see src/apiserver/authz/bootstrap-controllers.ts)', { user: id.user.name, verb, resource: key, error: err.message });
  }
  throw err;
}

function uriOf(r: ResourceInfo, ns: string | undefined, name: string, subresource: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const where = r.namespaced && ns ? `/namespaces/${encodeURIComponent(ns)}` : '';
  return `${base}${where}/${r.resource}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

/** Starts an audit record for one in-process request (undefined without an audit log, or at level None). */
export function auditInProcess(id: InProcessIdentity | undefined, verb: string, r: ResourceInfo, ns: string | undefined, name = '', subresource = '', longRunning = false): AuditRecord | undefined {
  if (!id?.audit) return undefined;
  return id.audit.begin({
    attrs: {
      user: id.user.name, groups: id.user.groups, verb, path: uriOf(r, ns, name, subresource),
      resource: { group: r.group, resource: r.resource, subresource, namespace: r.namespaced ? ns ?? '' : '', name },
    },
    apiVersion: r.version, requestURI: uriOf(r, ns, name, subresource), longRunning, uid: id.user.uid,
    sourceIPs: [], userAgent: id.userAgent,
  });
}

/** One in-process request: audited, authorized, then done; the audit record gets its outcome. */
export async function inProcessRequest<T>(id: InProcessIdentity | undefined, verb: string, r: ResourceInfo, ns: string | undefined, name: string | undefined, subresource: string | undefined, run: () => Promise<T>): Promise<T> {
  const record = auditInProcess(id, verb, r, ns, name, subresource);
  try {
    await authorizeInProcess(id, verb, r, ns, name, subresource);
    const out = await run();
    record?.complete(verb === 'create' ? 201 : 200);
    return out;
  } catch (err) {
    if (record) {
      const status = err instanceof ApiError ? err.toStatus() : undefined;
      record.complete(err instanceof ApiError ? err.code : 500, status ? { status: status.status, reason: status.reason, message: status.message } : undefined);
    }
    throw err;
  }
}

const ACCESS = Symbol('in-process identity');
const RAW = Symbol('raw registry');

/** The identity behind a registry made by authorizingRegistry (undefined for a plain one). */
export function identityOf(registry: Registry): InProcessIdentity | undefined {
  return (registry as unknown as { [ACCESS]?: InProcessIdentity })[ACCESS];
}

/**
 * The registry as one component sees it, for the few that call it directly (namespace
 * deletion, garbage collection, binding, events, the leader lease): reads and writes are
 * authorized as `id` and writes carry `id.user` for admission webhooks. The watch cache
 * and store underneath are not wrapped.
 */
export function authorizingRegistry(registry: Registry, id: InProcessIdentity): Registry {
  const withUser = <T extends { user?: UserInfo }>(opts: T | undefined): T => ({ ...opts, user: opts?.user ?? id.user }) as T;
  const wrapped: Partial<Record<keyof Registry, unknown>> = {
    get: (r: ResourceInfo, ns: string | undefined, name: string) =>
      inProcessRequest(id, 'get', r, ns, name, '', () => registry.get(r, ns, name)),
    tryGet: (r: ResourceInfo, ns: string | undefined, name: string) =>
      inProcessRequest(id, 'get', r, ns, name, '', () => registry.tryGet(r, ns, name)),
    list: (r: ResourceInfo, ns: string | undefined, q?: ListQuery) =>
      inProcessRequest(id, 'list', r, ns, q?.name ?? '', '', () => registry.list(r, ns, q)),
    create: (r: ResourceInfo, ns: string | undefined, input: KObject, opts?: WriteOptions) =>
      inProcessRequest(id, 'create', r, ns, input.metadata?.name ?? '', '', () => registry.create(r, ns, input, withUser(opts))),
    update: (r: ResourceInfo, ns: string | undefined, name: string, input: KObject, opts?: WriteOptions) =>
      inProcessRequest(id, 'update', r, ns, name, opts?.subresource ?? '', () => registry.update(r, ns, name, input, withUser(opts))),
    // pods/binding is a create in Kubernetes (POST .../binding); the rest are updates.
    guaranteedUpdate: (r: ResourceInfo, ns: string | undefined, name: string, mutate: (cur: KObject) => KObject | Promise<KObject>, opts?: WriteOptions, pinned?: boolean) =>
      inProcessRequest(id, opts?.subresource === 'binding' ? 'create' : 'update', r, ns, name, opts?.subresource ?? '',
        () => registry.guaranteedUpdate(r, ns, name, mutate, withUser(opts), pinned)),
    delete: (r: ResourceInfo, ns: string | undefined, name: string, opts?: DeleteOptions) =>
      inProcessRequest(id, 'delete', r, ns, name, '', () => registry.delete(r, ns, name, withUser(opts))),
  };
  return new Proxy(registry, {
    get(target, prop) {
      if (prop === ACCESS) return id;
      if (prop === RAW) return target;
      if (Object.hasOwn(wrapped, prop)) return wrapped[prop as keyof Registry];
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The registry underneath an authorizing one (for a call checked by other means). */
export function unwrapRegistry(registry: Registry): Registry {
  return (registry as unknown as { [RAW]?: Registry })[RAW] ?? registry;
}
