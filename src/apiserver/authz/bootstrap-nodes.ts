// The default policy for node credentials (kubelet TLS bootstrap, as kubeadm and k3s set
// it up): whoever joins with a bootstrap credential (group system:bootstrappers: the
// cluster join token or a bootstrap token) may create CertificateSigningRequests and have
// node client certificates auto-approved (`.../nodeclient`); nodes (group system:nodes)
// may have their own renewed (`.../selfnodeclient`). What a node may do with its
// certificate is the Node authorizer's business (node.ts), not RBAC's. The cluster join
// token (user system:skiff:join) also keeps the `system:skiff:node` role: the simulator
// (`skiff sim`, thousands of nodes on one connection) works as that user, not as nodes.
import type { KObject } from '../../api/object.ts';
import type { PolicyRule } from './types.ts';

const RBAC = 'rbac.authorization.k8s.io';
const CERTS = 'certificates.k8s.io';
const meta = (name: string): KObject['metadata'] => ({
  name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
});
const rule = (resources: string[], verbs: string[]): PolicyRule => ({ apiGroups: [CERTS], resources, verbs });

export const NODE_BOOTSTRAPPER_ROLE = 'system:node-bootstrapper';
export const NODE_CLIENT_ROLE = 'system:certificates.k8s.io:certificatesigningrequests:nodeclient';
export const SELF_NODE_CLIENT_ROLE = 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient';

export function nodeCertificateClusterRoles(): KObject[] {
  const role = (name: string, rules: PolicyRule[]): KObject => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: meta(name), rules });
  return [
    role(NODE_BOOTSTRAPPER_ROLE, [rule(['certificatesigningrequests'], ['create', 'get', 'list', 'watch'])]),
    role(NODE_CLIENT_ROLE, [rule(['certificatesigningrequests/nodeclient'], ['create'])]),
    role(SELF_NODE_CLIENT_ROLE, [rule(['certificatesigningrequests/selfnodeclient'], ['create'])]),
  ];
}

/** The user the cluster join token authenticates as (src/server/run.ts). */
export const JOIN_TOKEN_USER = 'system:skiff:join';

/** A binding for the cluster join token's user alone: what the node simulator (src/agent/sim/) works as. */
export function joinTokenBinding(name: string, role: string): KObject {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: meta(name),
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC, kind: 'User', name: JOIN_TOKEN_USER }],
  };
}

export function nodeCertificateClusterRoleBindings(): KObject[] {
  const binding = (name: string, role: string, group: string): KObject => ({
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: meta(name),
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: RBAC, kind: 'Group', name: group }],
  });
  return [
    // kubeadm's kubeadm:kubelet-bootstrap, kubeadm:node-autoapprove-bootstrap and -certificate-rotation.
    binding('system:skiff:node-bootstrapper', NODE_BOOTSTRAPPER_ROLE, 'system:bootstrappers'),
    binding('system:skiff:node-autoapprove-bootstrap', NODE_CLIENT_ROLE, 'system:bootstrappers'),
    binding('system:skiff:node-autoapprove-certificate-rotation', SELF_NODE_CLIENT_ROLE, 'system:nodes'),
  ];
}
