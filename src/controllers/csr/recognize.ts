// What a CertificateSigningRequest asks for, in the terms Kubernetes' approver and signers
// use (pkg/apis/certificates/helpers.go IsKubeletClientCSR, IsKubeletServingCSR): a node
// client certificate is `CN=system:node:<name>, O=system:nodes` with no SANs and only
// client-auth usages; a kubelet serving certificate is the same subject with server-auth
// usages and at least one DNS or IP name. Pure functions over a parsed request.
import type { ParsedRequest } from '../../apiserver/certificates/x509.ts';

export const NODE_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const SIGNERS = [NODE_CLIENT_SIGNER, CLIENT_SIGNER, KUBELET_SERVING_SIGNER];

export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';

const CLIENT_USAGES = new Set(['digital signature', 'key encipherment', 'client auth']);
const SERVING_USAGES = new Set(['digital signature', 'key encipherment', 'server auth']);

function usagesWithin(usages: string[], allowed: Set<string>, needed: string): string | undefined {
  const bad = usages.filter((u) => !allowed.has(u));
  if (bad.length) return `usages not allowed: ${bad.join(', ')}`;
  if (!usages.includes(needed)) return `missing required usage: ${needed}`;
  return undefined;
}

function nodeSubject(req: ParsedRequest): string | undefined {
  if (req.organizations.length !== 1 || req.organizations[0] !== NODES_GROUP) return `subject organization must be exactly ["${NODES_GROUP}"]`;
  if (!req.commonName.startsWith(NODE_USER_PREFIX) || req.commonName === NODE_USER_PREFIX) return `subject common name must begin with "${NODE_USER_PREFIX}"`;
  return undefined;
}

/** Why a request is not a node client certificate request, or undefined if it is one. */
export function notNodeClient(req: ParsedRequest, usages: string[]): string | undefined {
  const subject = nodeSubject(req);
  if (subject) return subject;
  if (req.dnsNames.length || req.ipAddresses.length || req.emailAddresses.length || req.uris.length) return 'subjectAltNames are not allowed';
  return usagesWithin(usages, CLIENT_USAGES, 'client auth');
}

/** Why a request is not a kubelet serving certificate request, or undefined if it is one. */
export function notKubeletServing(req: ParsedRequest, usages: string[]): string | undefined {
  const subject = nodeSubject(req);
  if (subject) return subject;
  if (req.emailAddresses.length || req.uris.length) return 'email and URI subjectAltNames are not allowed';
  if (!req.dnsNames.length && !req.ipAddresses.length) return 'at least one DNS or IP subjectAltName is required';
  return usagesWithin(usages, SERVING_USAGES, 'server auth');
}

/** Why a request is not a plain client certificate request (kube-apiserver-client). */
export function notClient(req: ParsedRequest, usages: string[]): string | undefined {
  if (!req.commonName) return 'subject common name is required';
  return usagesWithin(usages, CLIENT_USAGES, 'client auth');
}

/** The signer's own check; undefined means it will sign. */
export function signerRefusal(signerName: string, req: ParsedRequest, usages: string[]): string | undefined {
  if (!req.signatureValid) return 'the request is not signed by the key it carries';
  switch (signerName) {
    case NODE_CLIENT_SIGNER: return notNodeClient(req, usages);
    case KUBELET_SERVING_SIGNER: return notKubeletServing(req, usages);
    case CLIENT_SIGNER: return notClient(req, usages);
    default: return `unknown signer ${signerName}`;
  }
}
