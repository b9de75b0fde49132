// Request attributes as kube-apiserver's RequestInfoFactory computes them, from the path,
// method and query alone (no scheme lookup: an unknown resource is still authorized first,
// so a forbidden user cannot probe which resources exist).
import type { UserInfo } from '../authn/types.ts';
import type { Attributes } from './types.ts';

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

function decode(segment: string): string {
  try { return decodeURIComponent(segment); } catch { return segment; }
}

export function requestAttributes(user: UserInfo, method: string, path: string, query: URLSearchParams): Attributes {
  const base: Attributes = {
    user, verb: method.toLowerCase(), resourceRequest: false, path,
    apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '',
  };
  let parts = path.split('/').filter(Boolean).map(decode);
  if (parts[0] === 'api') {
    if (parts.length < 3) return base;
    base.apiVersion = parts[1];
    parts = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length < 4) return base;
    base.apiGroup = parts[1];
    base.apiVersion = parts[2];
    parts = parts.slice(3);
  } else {
    return base;
  }
  base.resourceRequest = true;
  let verb: string;
  switch (method) {
    case 'POST': verb = 'create'; break;
    case 'GET': case 'HEAD': verb = 'get'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = 'delete'; break;
    default: verb = '';
  }
  if (parts[0] === 'watch' || parts[0] === 'proxy') {
    // Deprecated /watch/ and /proxy/ prefixes turn the verb into watch or proxy.
    if (parts.length >= 2) verb = parts[0];
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    base.namespace = parts[1];
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
  }
  base.resource = parts[0] ?? '';
  if (parts.length >= 2) base.name = parts[1];
  if (parts.length >= 3) base.subresource = parts[2];
  if (!base.name && verb === 'get') {
    const watch = query.get('watch');
    verb = watch === 'true' || watch === '1' ? 'watch' : 'list';
  }
  if (!base.name && verb === 'delete') verb = 'deletecollection';
  // A list or watch pinned to one name by fieldSelector metadata.name=x is about that name.
  if (verb === 'list' || verb === 'watch' || verb === 'deletecollection') {
    const sel = query.get('fieldSelector');
    const m = sel ? /^metadata\.name==?([^,]+)$/.exec(sel) : null;
    if (m) base.name = m[1];
  }
  base.verb = verb;
  return base;
}

/** "User "x" cannot list resource "pods" in API group "" in the namespace "y"" (Kubernetes' wording). */
export function forbiddenMessage(a: Attributes): string {
  const who = JSON.stringify(a.user.name);
  if (!a.resourceRequest) return `User ${who} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${who} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}
