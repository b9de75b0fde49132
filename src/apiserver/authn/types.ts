import type { IncomingMessage } from 'node:http';

/** Who made a request, as Kubernetes' user.Info: RBAC matches on name and groups. */
export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  /** Extra attributes (a service account token's pod, node and credential id). */
  extra?: Record<string, string[]>;
}

/** Returns the caller, or undefined when the request carries no credentials we accept. */
export type Authenticator = (req: IncomingMessage) => UserInfo | undefined;

/** The whole request authenticator: synchronous for certificates and static tokens, a promise when a token must be looked up. */
export type RequestAuthenticator = (req: IncomingMessage) => UserInfo | undefined | Promise<UserInfo | undefined>;

/** Checks a bearer token the static authenticators did not know (service-account JWTs). */
export type TokenAuthenticator = (token: string) => Promise<UserInfo | undefined>;

/** Every authenticated user is in this group, as in Kubernetes. */
export const AUTHENTICATED_GROUP = 'system:authenticated';
