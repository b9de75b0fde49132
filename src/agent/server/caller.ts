// Who may call the agent's server (the kubelet API: logs, exec, attach, port-forward,
// metrics). TLS already insists on a client certificate the cluster CA signed; but nodes
// hold such certificates too (system:node:<name>), and one node must not exec into
// another node's pods. So only the API server's own kubelet client identity
// (CN=kube-apiserver-kubelet-client, see src/apiserver/certificates/kubelet-client.ts)
// and cluster admins (O=system:masters) get in; everyone else is Forbidden, in the
// kubelet's words. (The kubelet asks the API server with a SubjectAccessReview instead.)
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export const APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';
const MASTERS = 'system:masters';

function asList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The caller's user name when it may use the kubelet API, else an error message. */
export function checkCaller(req: IncomingMessage, path: string): { ok: true; user: string } | { ok: false; message: string } {
  const cert = (req.socket as TLSSocket).getPeerCertificate?.();
  const user = asList(cert?.subject?.CN)[0] ?? '';
  const groups = asList(cert?.subject?.O);
  if (user === APISERVER_KUBELET_CLIENT || groups.includes(MASTERS)) return { ok: true, user };
  const verb = req.method === 'GET' || req.method === 'HEAD' ? 'get' : 'create';
  return { ok: false, message: `Forbidden (user=${user || 'system:anonymous'}, verb=${verb}, resource=nodes, subresource(s)=[proxy]) for ${path}` };
}
