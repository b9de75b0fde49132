// HTTP handlers for resource requests: one function per verb, each turning the request
// into a registry call and the result into a response (object, list, Table or watch stream).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject } from '../../api/object.ts';
import { isPlainObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { groupVersion } from '../../api/scheme.ts';
import { ApiError, badRequest, methodNotAllowed, notFound, successStatus } from '../errors.ts';
import { decodeBody, mediaType, parseJson, parseYaml, readBody } from '../http/body.ts';
import { negotiate, type Negotiated } from '../http/negotiate.ts';
import { send, streamJsonList } from '../http/respond.ts';
import type { Registry, WriteOptions } from '../registry/registry.ts';
import type { ResourceRequest } from '../request-info.ts';
import { SERVED_SUBRESOURCES } from '../discovery.ts';
import { parseIncludeObject, toTable } from '../table.ts';
import { boolParam, checkKnownParams, dryRunParam, fieldManagerParam, fieldValidationParam, intParam, listQuery, propagationParam } from './query.ts';
import { serveWatch } from './watch.ts';
import { patchResource } from './patch.ts';
import { getScale, updateScale } from './scale.ts';
import { bindPod } from './binding.ts';
import { handlePodStream, isPodStreamRequest, type KubeletClientConfig } from './pod-streams.ts';
import { requestToken } from './token-request.ts';
import type { ServiceAccountTokenIssuer } from '../serviceaccount/token-issuer.ts';
import type { UserInfo } from '../authn/types.ts';

export interface HandlerContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  info: ResourceRequest;
  registry: Registry;
  /** Warnings to send back as `Warning: 299 - "..."` headers. */
  warnings: string[];
  /** The authenticated caller (admission webhooks see it as userInfo). */
  user?: UserInfo;
  bookmarkIntervalMs: number;
  /** The client certificate for node agents (pods/log, exec, attach, portforward). */
  kubeletClient?: KubeletClientConfig;
  /** Signs TokenRequests (serviceaccounts/token). */
  tokenIssuer?: ServiceAccountTokenIssuer;
}

export async function handleResource(ctx: HandlerContext): Promise<void> {
  const { info } = ctx;
  const r = info.resource;
  if (info.subresource !== undefined && !SERVED_SUBRESOURCES.has(info.subresource as never)) {
    throw notFound(r, `${info.name}/${info.subresource}`);
  }
  if (info.subresource && !r.subresources.includes(info.subresource as never)) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }
  if (r.namespaced && !info.namespace && (info.verb === 'create' || info.name !== undefined)) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  }
  if (isPodStreamRequest(info)) return handlePodStream(ctx);
  const verbOk = info.subresource ? true : r.verbs.includes(info.verb);
  if (!verbOk) throw methodNotAllowed();
  if (info.subresource === 'token' && info.verb !== 'create') throw methodNotAllowed();
  checkKnownParams(info.verb, ctx.query);
  switch (info.verb) {
    case 'get': return info.subresource === 'scale' ? getScale(ctx) : handleGet(ctx);
    case 'list': return handleList(ctx);
    case 'watch': return serveWatch(ctx);
    case 'create':
      if (info.subresource === 'binding') return bindPod(ctx);
      if (info.subresource === 'token') return requestToken(ctx);
      if (info.name !== undefined) throw methodNotAllowed();
      return handleCreate(ctx);
    case 'update': return info.subresource === 'scale' ? updateScale(ctx) : handleUpdate(ctx);
    case 'patch': return patchResource(ctx);
    case 'delete': return handleDelete(ctx);
    case 'deletecollection': return handleDeleteCollection(ctx);
  }
}

export function respondObject(ctx: HandlerContext, code: number, obj: KObject, n?: Negotiated): void {
  const neg = n ?? negotiate(ctx.req.headers.accept, { allowTable: true });
  const headers = warningHeaders(ctx.warnings);
  if (neg.table) {
    const table = toTable(ctx.info.resource, [obj], { version: neg.table, includeObject: parseIncludeObject(ctx.query.get('includeObject')) });
    send(ctx.res, code, table, 'json', headers);
    return;
  }
  send(ctx.res, code, obj, neg.format, headers);
}

export function warningHeaders(warnings: string[]): Record<string, string> {
  if (!warnings.length) return {};
  return { Warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ') };
}

export function writeOptions(ctx: HandlerContext): WriteOptions {
  return {
    dryRun: dryRunParam(ctx.query),
    fieldManager: fieldManagerParam(ctx.query, ctx.req.headers['user-agent']),
    fieldValidation: fieldValidationParam(ctx.query),
    warnings: ctx.warnings,
    user: ctx.user,
  };
}

/** Reads and decodes a JSON or YAML body that must be an object. */
export async function readObject(ctx: HandlerContext): Promise<KObject> {
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type']);
  if (!isPlainObject(body)) throw badRequest('the body of the request was not a JSON object');
  return body as KObject;
}

async function handleGet(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const neg = negotiate(ctx.req.headers.accept, { allowTable: true });
  const obj = await registry.get(info.resource, info.namespace, info.name!);
  respondObject(ctx, 200, obj, neg);
}

async function handleList(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const neg = negotiate(ctx.req.headers.accept, { allowTable: true });
  const q = listQuery(info.resource, ctx.query);
  // resourceVersion=0 (any recent state, limit ignored) and consistent reads come from the
  // watch cache, as in Kubernetes (a limited one gets its first page there; the pages after
  // it, like exact revisions, come from the store).
  const fromCache = q.resourceVersion === '0' || (!q.resourceVersion && !q.continue);
  if (fromCache && !neg.table && neg.format === 'json') {
    const cached = await registry.listFromCache(info.resource, info.namespace, q);
    const metadata: Record<string, unknown> = { resourceVersion: cached.resourceVersion };
    if (cached.continue) metadata.continue = cached.continue;
    if (cached.remainingItemCount !== undefined) metadata.remainingItemCount = cached.remainingItemCount;
    const head = JSON.stringify({ kind: `${info.resource.kind}List`, apiVersion: groupVersion(info.resource), metadata });
    await streamJsonList(ctx.res, head, cached.items);
    return;
  }
  const result: Awaited<ReturnType<Registry['list']>> = fromCache
    ? await registry.listFromCache(info.resource, info.namespace, q).then((c) => ({ ...c, items: c.items.map((i) => i.obj) }))
    : await registry.list(info.resource, info.namespace, q);
  const listMeta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue) listMeta.continue = result.continue;
  if (result.remainingItemCount !== undefined) listMeta.remainingItemCount = result.remainingItemCount;
  if (neg.table) {
    const table = toTable(info.resource, result.items, { version: neg.table, includeObject: parseIncludeObject(ctx.query.get('includeObject')), listMeta });
    send(ctx.res, 200, table);
    return;
  }
  const list = { kind: `${info.resource.kind}List`, apiVersion: groupVersion(info.resource), metadata: listMeta, items: result.items };
  send(ctx.res, 200, list, neg.format);
}

async function handleCreate(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const neg = negotiate(ctx.req.headers.accept, { allowTable: true });
  const obj = await readObject(ctx);
  const created = await registry.create(info.resource, info.namespace, obj, { ...writeOptions(ctx), inputOwned: true });
  respondObject(ctx, 201, created, neg);
}

async function handleUpdate(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const neg = negotiate(ctx.req.headers.accept, { allowTable: true });
  if (info.subresource && info.subresource !== 'status' && info.subresource !== 'finalize' && info.subresource !== 'approval') throw methodNotAllowed();
  const obj = await readObject(ctx);
  const opts = { ...writeOptions(ctx), subresource: info.subresource as WriteOptions['subresource'] };
  const updated = await registry.update(info.resource, info.namespace, info.name!, obj, opts);
  respondObject(ctx, 200, updated, neg);
}

interface DeleteBody {
  propagationPolicy?: string;
  orphanDependents?: boolean;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

async function readDeleteOptions(ctx: HandlerContext): Promise<DeleteBody> {
  const buf = await readBody(ctx.req);
  if (!buf.length) return {};
  const type = mediaType(ctx.req.headers['content-type']);
  const body = type.endsWith('yaml') ? parseYaml(buf.toString('utf8')) : parseJson(buf.toString('utf8'));
  if (!isPlainObject(body)) throw badRequest('the body of the request was not a DeleteOptions object');
  const kind = body.kind;
  if (kind !== undefined && kind !== 'DeleteOptions') throw badRequest(`expected DeleteOptions, got ${String(kind)}`);
  return body as DeleteBody;
}

function deleteOptionsOf(ctx: HandlerContext, body: DeleteBody) {
  const q = ctx.query;
  let policy = propagationParam(q.get('propagationPolicy') ?? body.propagationPolicy);
  const orphan = boolParam(q, 'orphanDependents') ?? body.orphanDependents;
  if (orphan !== undefined) {
    if (policy) throw badRequest('propagationPolicy: Invalid value: "' + policy + '": orphanDependents and propagationPolicy cannot both be set');
    policy = orphan ? 'Orphan' : 'Background';
  }
  const grace = intParam(q, 'gracePeriodSeconds') ?? body.gracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || grace < 0)) throw badRequest(`gracePeriodSeconds: Invalid value: ${grace}: must be greater than or equal to 0`);
  const dryRun = dryRunParam(q) || (body.dryRun ?? []).includes('All');
  return { propagationPolicy: policy, gracePeriodSeconds: grace, preconditions: body.preconditions, dryRun, user: ctx.user, warnings: ctx.warnings };
}

async function handleDelete(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  if (info.subresource) throw methodNotAllowed();
  const neg = negotiate(ctx.req.headers.accept, { allowTable: false });
  const opts = deleteOptionsOf(ctx, await readDeleteOptions(ctx));
  const { obj, pending } = await registry.delete(info.resource, info.namespace, info.name!, opts);
  send(ctx.res, pending ? 202 : 200, obj, neg.format, warningHeaders(ctx.warnings));
}

async function handleDeleteCollection(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const neg = negotiate(ctx.req.headers.accept, { allowTable: false });
  const opts = deleteOptionsOf(ctx, await readDeleteOptions(ctx));
  const q = listQuery(info.resource, ctx.query);
  const { items, resourceVersion } = await registry.list(info.resource, info.namespace, { ...q, limit: undefined, continue: undefined });
  const deleted: KObject[] = [];
  for (const item of items) {
    try {
      deleted.push((await registry.delete(info.resource, item.metadata.namespace, item.metadata.name!, opts)).obj);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  send(ctx.res, 200, { kind: `${info.resource.kind}List`, apiVersion: groupVersion(info.resource), metadata: { resourceVersion }, items: deleted }, neg.format);
}

export function resourceOf(ctx: HandlerContext): ResourceInfo {
  return ctx.info.resource;
}

export { successStatus };
