// The TokenRequest subresource (POST .../serviceaccounts/<name>/token), as kube-apiserver's
// pkg/registry/core/serviceaccount/storage/token.go answers it: default the audiences to the
// API server's and the lifetime to an hour, validate, resolve the bound object (Pod, Secret
// or Node; its uid must match when given), then sign. Nothing is stored.
import { lookupResource } from '../../api/scheme.ts';
import type { KObject } from '../../api/object.ts';
import { invalid as invalidField, type FieldError } from '../../api/field-error.ts';
import { badRequest, conflict, invalid } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';
import { WARN_ONLY_EXPIRATION_SECONDS, EXPIRATION_EXTENSION_SECONDS, type ObjectRef, type ServiceAccountTokenIssuer, type TokenSpec } from './token-issuer.ts';

export const TOKEN_REQUEST_API_VERSION = 'authentication.k8s.io/v1';
const GROUP = 'authentication.k8s.io';
const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

const SERVICE_ACCOUNTS = lookupResource('', 'v1', 'serviceaccounts')!;
const PODS = lookupResource('', 'v1', 'pods')!;
const SECRETS = lookupResource('', 'v1', 'secrets')!;
const NODES = lookupResource('', 'v1', 'nodes')!;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Turns a TokenRequest body into a signed token for `namespace/name`; returns the answered TokenRequest. */
export async function createTokenRequest(opts: {
  registry: Pick<Registry, 'get' | 'tryGet'>;
  issuer: ServiceAccountTokenIssuer;
  namespace: string;
  name: string;
  body: KObject;
}): Promise<KObject> {
  const { registry, issuer, namespace, name, body } = opts;
  if (body.kind !== undefined && body.kind !== 'TokenRequest') throw badRequest(`expected a TokenRequest, got ${String(body.kind)}`);
  if (body.apiVersion !== undefined && body.apiVersion !== TOKEN_REQUEST_API_VERSION && body.apiVersion !== `${GROUP}/v1beta1`) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${TOKEN_REQUEST_API_VERSION})`);
  }
  const meta = isObj(body.metadata) ? body.metadata : {};
  if (body.spec !== undefined && body.spec !== null && !isObj(body.spec)) throw badRequest('TokenRequest.spec must be an object');
  const spec = isObj(body.spec) ? body.spec : {};

  // Name and namespace in the body must match the URL when given.
  if (typeof meta.name === 'string' && meta.name && meta.name !== name) {
    throw invalid('TokenRequest', GROUP, name, [invalidField('metadata.name', meta.name, 'must match the service account name if specified')]);
  }
  if (typeof meta.namespace === 'string' && meta.namespace && meta.namespace !== namespace) {
    throw invalid('TokenRequest', GROUP, name, [invalidField('metadata.namespace', meta.namespace, 'must match the service account namespace if specified')]);
  }

  const sa = await registry.get(SERVICE_ACCOUNTS, namespace, name);

  let audiences: string[];
  if (spec.audiences === undefined || spec.audiences === null || (Array.isArray(spec.audiences) && spec.audiences.length === 0)) {
    audiences = [...issuer.apiAudiences];
  } else if (Array.isArray(spec.audiences) && spec.audiences.every((a) => typeof a === 'string')) {
    audiences = spec.audiences as string[];
  } else {
    throw badRequest('TokenRequest.spec.audiences must be a list of strings');
  }
  let expirationSeconds: number;
  if (spec.expirationSeconds === undefined || spec.expirationSeconds === null) expirationSeconds = DEFAULT_EXPIRATION_SECONDS;
  else if (typeof spec.expirationSeconds === 'number' && Number.isInteger(spec.expirationSeconds)) expirationSeconds = spec.expirationSeconds;
  else throw badRequest(`TokenRequest in version "v1" cannot be handled as a TokenRequest: json: cannot unmarshal ${typeof spec.expirationSeconds} into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64`);

  const now = issuer.now();
  const errors: FieldError[] = [];
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) errors.push(invalidField('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) errors.push(invalidField('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  if (errors.length) throw invalid('TokenRequest', GROUP, '', errors);

  let pod: ObjectRef | undefined;
  let secret: ObjectRef | undefined;
  let node: ObjectRef | undefined;
  const boundRef = spec.boundObjectRef;
  if (boundRef !== undefined && boundRef !== null) {
    if (!isObj(boundRef)) throw badRequest('TokenRequest.spec.boundObjectRef must be an object');
    const refName = typeof boundRef.name === 'string' ? boundRef.name : '';
    const apiVersion = typeof boundRef.apiVersion === 'string' ? boundRef.apiVersion : '';
    const kind = typeof boundRef.kind === 'string' ? boundRef.kind : '';
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    let uid: string | undefined;
    if (group === '' && kind === 'Pod') {
      const p = await registry.get(PODS, namespace, refName);
      const podSa = (p.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName;
      if (podSa !== name) throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
      uid = p.metadata.uid!;
      pod = { name: refName, uid };
      // The pod's node goes into the claims too (ServiceAccountTokenPodNodeInfo).
      const nodeName = (p.spec as { nodeName?: string } | undefined)?.nodeName;
      if (nodeName) {
        const n = await registry.tryGet(NODES, undefined, nodeName);
        if (n) node = { name: nodeName, uid: n.metadata.uid! };
      }
    } else if (group === '' && kind === 'Secret') {
      const s = await registry.get(SECRETS, namespace, refName);
      uid = s.metadata.uid!;
      secret = { name: refName, uid };
    } else if (group === '' && kind === 'Node') {
      const n = await registry.get(NODES, undefined, refName);
      uid = n.metadata.uid!;
      node = { name: refName, uid };
    } else {
      throw badRequest(`cannot bind token to object of type ${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}`);
    }
    const wantUid = typeof boundRef.uid === 'string' ? boundRef.uid : '';
    if (wantUid && wantUid !== uid) {
      throw conflict({ group, resource: kind }, refName, `the UID in the bound object reference (${wantUid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
  }

  // A projected kube-api-access token (3607 s, the API's audience, bound to a pod) is
  // really valid for a year, with `warnafter` at the requested expiry, so clients that do
  // not reread the file keep working while it is being rolled out (as kube-apiserver does
  // with --service-account-extend-token-expiration, its default).
  let lifetime = expirationSeconds;
  let warnAfterSeconds: number | undefined;
  if (pod && expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS && audiences.every((a) => issuer.apiAudiences.includes(a))) {
    warnAfterSeconds = expirationSeconds;
    lifetime = EXPIRATION_EXTENSION_SECONDS;
  }
  const tokenSpec: TokenSpec = {
    namespace, serviceAccount: { name, uid: sa.metadata.uid! }, pod, secret, node,
    audiences, expirationSeconds: lifetime, warnAfterSeconds,
  };
  const { token } = issuer.issue(tokenSpec);
  const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const outSpec: Json = { audiences, expirationSeconds, boundObjectRef: isObj(boundRef) ? boundRef : null };
  return {
    kind: 'TokenRequest', apiVersion: TOKEN_REQUEST_API_VERSION,
    metadata: { name, namespace, creationTimestamp: iso(now) },
    spec: outSpec,
    status: { token, expirationTimestamp: iso(now + expirationSeconds) },
  };
}
