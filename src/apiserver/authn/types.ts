import type { IncomingMessage } from 'node:http';

/** Who made a request, as Kubernetes' user.Info: RBAC matches on name and groups. */
export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
}

/** Returns the caller, or undefined when the request carries no credentials we accept. */
export type Authenticator = (req: IncomingMessage) => UserInfo | undefined;

/** Every authenticated user is in this group, as in Kubernetes. */
export const AUTHENTICATED_GROUP = 'system:authenticated';
