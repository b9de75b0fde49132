// The paths and operations of one resource in an OpenAPI v3 document, shaped as the
// Kubernetes API server publishes them: operationIds like readCoreV1NamespacedPod,
// x-kubernetes-action and x-kubernetes-group-version-kind on each operation (kubectl
// finds a kind's PATCH operation by that extension), and the per-verb parameters.

import type { ResourceInfo, Subresource } from '../scheme.ts';
import { NAMESPACE_PARAM, PARAMS, PRETTY_PARAM, nameParam } from './parameters.ts';

type Json = { [key: string]: unknown };
type Action = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';
interface Gvk { group: string; version: string; kind: string }

const SCHEMAS = '#/components/schemas/';
const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
const DELETE_OPTIONS = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';
const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';
const OBJECT_MEDIA = ['application/json', 'application/vnd.kubernetes.protobuf', 'application/yaml'];
const LIST_MEDIA = ['application/json', 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf', 'application/vnd.kubernetes.protobuf;stream=watch', 'application/yaml'];
export const PATCH_MEDIA_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

/** Subresources with a body of another kind: that kind, named by definition. */
const SUBRESOURCE_KINDS: Partial<Record<Subresource, { gvk: Gvk; definition: string }>> = {
  scale: { gvk: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, definition: 'io.k8s.api.autoscaling.v1.Scale' },
  binding: { gvk: { group: '', version: 'v1', kind: 'Binding' }, definition: 'io.k8s.api.core.v1.Binding' },
  eviction: { gvk: { group: 'policy', version: 'v1', kind: 'Eviction' }, definition: 'io.k8s.api.policy.v1.Eviction' },
  token: { gvk: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, definition: 'io.k8s.api.authentication.v1.TokenRequest' },
};

/** Group name as it appears in operationIds and tags: rbac.authorization.k8s.io → RbacAuthorization. */
export function groupIdentifier(group: string): string {
  if (group === '') return 'Core';
  return group.replace(/\.k8s\.io$/, '').split('.').map(capitalise).join('');
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function ref(definition: string): Json {
  return { $ref: SCHEMAS + definition };
}

function content(definition: string, media: string[]): Json {
  return Object.fromEntries(media.map((m) => [m, { schema: ref(definition) }]));
}

function response(description: string, definition: string, media = OBJECT_MEDIA): Json {
  return { content: content(definition, media), description };
}

function stringResponse(): Json {
  return { content: { '*/*': { schema: { type: 'string' } } }, description: 'OK' };
}

interface OperationSpec {
  verbWord: string;
  action: Action;
  description: string;
  gvk: Gvk;
  parameters?: Json[];
  requestBody?: Json;
  responses: Json;
  suffix?: string;
}

/** Builds every path of `r`, keyed by URL path, with `definitionOf(kind)` naming its schemas. */
export function resourcePaths(r: ResourceInfo, definitionOf: (kind: string) => string): Record<string, Json> {
  const paths: Record<string, Json> = {};
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const scope = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.resource}` : `${prefix}/${r.resource}`;
  const id = `${groupIdentifier(r.group)}${capitalise(r.version)}`;
  const tag = `${groupIdentifier(r.group).charAt(0).toLowerCase()}${groupIdentifier(r.group).slice(1)}_${r.version}`;
  const ns = r.namespaced ? 'Namespaced' : '';
  const gvk: Gvk = { group: r.group, version: r.version, kind: r.kind };
  const kindDef = definitionOf(r.kind);
  const listDef = definitionOf(`${r.kind}List`);
  const has = (v: string): boolean => (r.verbs as string[]).includes(v);

  const op = (s: OperationSpec): Json => {
    const out: Json = {
      description: s.description,
      operationId: `${s.verbWord}${id}${s.suffix ?? `${ns}${r.kind}`}`,
    };
    if (s.parameters?.length) out.parameters = s.parameters;
    if (s.requestBody) out.requestBody = s.requestBody;
    out.responses = { ...s.responses, 401: { description: 'Unauthorized' } };
    out.tags = [tag];
    out['x-kubernetes-action'] = s.action;
    out['x-kubernetes-group-version-kind'] = s.gvk;
    return out;
  };
  const pathParams = (withName: boolean): Json[] => [
    ...(withName ? [nameParam(r.kind)] : []),
    ...(r.namespaced ? [NAMESPACE_PARAM] : []),
    PRETTY_PARAM,
  ];
  const body = (definition: string): Json => ({ content: { '*/*': { schema: ref(definition) } }, required: true });
  const patchBody = (): Json => ({ content: Object.fromEntries(PATCH_MEDIA_TYPES.map((m) => [m, { schema: ref(PATCH) }])), required: true });

  /** get/put/patch on an object or one of its object-shaped subresources. */
  const objectOps = (definition: string, opGvk: Gvk, what: string, suffix: string | undefined, verbs: { get: boolean; put: boolean; patch: boolean }): Json => {
    const item: Json = {};
    const suffixed = (): string | undefined => (suffix === undefined ? undefined : `${ns}${r.kind}${suffix}`);
    if (verbs.get) item.get = op({ verbWord: 'read', action: 'get', description: `read ${what}`, gvk: opGvk, responses: { 200: response('OK', definition) }, suffix: suffixed() });
    if (verbs.put) {
      item.put = op({
        verbWord: 'replace', action: 'put', description: `replace ${what}`, gvk: opGvk, parameters: PARAMS.update, requestBody: body(definition),
        responses: { 200: response('OK', definition), 201: response('Created', definition) }, suffix: suffixed(),
      });
    }
    if (verbs.patch) {
      item.patch = op({
        verbWord: 'patch', action: 'patch', description: `partially update ${what}`, gvk: opGvk, parameters: PARAMS.patch, requestBody: patchBody(),
        responses: { 200: response('OK', definition), 201: response('Created', definition) }, suffix: suffixed(),
      });
    }
    return item;
  };

  // The collection: list, create, deletecollection.
  const collection: Json = {};
  if (has('list')) {
    collection.get = op({ verbWord: 'list', action: 'list', description: `list or watch objects of kind ${r.kind}`, gvk, parameters: PARAMS.list, responses: { 200: response('OK', listDef, LIST_MEDIA) } });
  }
  if (has('create')) {
    collection.post = op({
      verbWord: 'create', action: 'post', description: `create ${article(r.kind)}`, gvk, parameters: PARAMS.create, requestBody: body(kindDef),
      responses: { 200: response('OK', kindDef), 201: response('Created', kindDef), 202: response('Accepted', kindDef) },
    });
  }
  if (has('deletecollection')) {
    collection.delete = op({
      verbWord: 'delete', action: 'deletecollection', description: `delete collection of ${r.kind}`, gvk, parameters: PARAMS.deletecollection,
      requestBody: body(DELETE_OPTIONS), responses: { 200: response('OK', STATUS) }, suffix: `Collection${ns}${r.kind}`,
    });
  }
  if (Object.keys(collection).length) paths[scope] = { ...collection, parameters: pathParams(false) };

  // The object: read, replace, patch, delete.
  const item = objectOps(kindDef, gvk, `the specified ${r.kind}`, undefined, { get: has('get'), put: has('update'), patch: has('patch') });
  if (has('delete')) {
    item.delete = op({
      verbWord: 'delete', action: 'delete', description: `delete ${article(r.kind)}`, gvk, parameters: PARAMS.delete, requestBody: body(DELETE_OPTIONS),
      responses: { 200: response('OK', kindDef), 202: response('Accepted', kindDef) },
    });
  }
  if (Object.keys(item).length) paths[`${scope}/{name}`] = { ...item, parameters: pathParams(true) };

  // Namespaced kinds can also be listed across all namespaces.
  if (r.namespaced && has('list')) {
    paths[`${prefix}/${r.resource}`] = {
      get: op({ verbWord: 'list', action: 'list', description: `list or watch objects of kind ${r.kind}`, gvk, parameters: PARAMS.list, responses: { 200: response('OK', listDef, LIST_MEDIA) }, suffix: `${r.kind}ForAllNamespaces` }),
      parameters: [PRETTY_PARAM],
    };
  }

  for (const sub of r.subresources) {
    const subPath = `${scope}/{name}/${sub}`;
    const Sub = capitalise(sub);
    const special = SUBRESOURCE_KINDS[sub];
    let ops: Json | undefined;
    switch (sub) {
      case 'status':
      case 'ephemeralcontainers':
        ops = objectOps(kindDef, gvk, `${sub} of the specified ${r.kind}`, Sub, { get: true, put: true, patch: true });
        break;
      case 'scale':
        ops = objectOps(special!.definition, special!.gvk, `scale of the specified ${r.kind}`, Sub, { get: true, put: true, patch: true });
        break;
      case 'binding':
      case 'eviction':
      case 'token':
        ops = {
          post: op({
            verbWord: 'create', action: 'post', description: `create ${sub} of ${article(r.kind)}`, gvk: special!.gvk, parameters: PARAMS.create,
            requestBody: body(special!.definition), suffix: `${ns}${r.kind}${Sub}`,
            responses: { 200: response('OK', special!.definition), 201: response('Created', special!.definition), 202: response('Accepted', special!.definition) },
          }),
        };
        break;
      case 'finalize':
        ops = {
          put: op({
            verbWord: 'replace', action: 'put', description: `replace finalize of the specified ${r.kind}`, gvk, parameters: PARAMS.update,
            requestBody: body(kindDef), suffix: `${ns}${r.kind}${Sub}`, responses: { 200: response('OK', kindDef), 201: response('Created', kindDef) },
          }),
        };
        break;
      case 'log':
        ops = { get: op({ verbWord: 'read', action: 'get', description: `read log of the specified ${r.kind}`, gvk, parameters: PARAMS.log, responses: { 200: stringResponse() }, suffix: `${ns}${r.kind}Log` }) };
        break;
      case 'exec':
      case 'attach':
      case 'portforward':
      case 'proxy': {
        const params = PARAMS[sub];
        const connect = (method: 'Get' | 'Post'): Json => op({
          verbWord: 'connect', action: 'connect', description: `connect ${method.toUpperCase()} requests to ${sub} of ${r.kind}`, gvk: { ...gvk, kind: `${r.kind}${sub === 'portforward' ? 'PortForwardOptions' : `${Sub}Options`}` },
          parameters: params, responses: { 200: stringResponse() }, suffix: `${method}${ns}${r.kind}${sub === 'portforward' ? 'Portforward' : Sub}`,
        });
        ops = { get: connect('Get'), post: connect('Post') };
        break;
      }
    }
    if (ops && Object.keys(ops).length) paths[subPath] = { ...ops, parameters: pathParams(true) };
  }
  return paths;
}

function article(kind: string): string {
  return `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}`;
}
