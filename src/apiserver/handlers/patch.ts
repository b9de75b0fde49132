// PATCH in all four flavours. The patch is re-applied to the freshest object on each
// retry of the read-modify-write, so concurrent writers never lose each other's changes.
import type { KObject } from '../../api/object.ts';
import { isPlainObject } from '../../api/object.ts';
import { groupVersion } from '../../api/scheme.ts';
import { schemaForKind } from '../../api/openapi/index.ts';
import { ApiError, badRequest, staleObject, unsupportedMediaType } from '../errors.ts';
import { mediaType, parseJson, parseYaml, readBody } from '../http/body.ts';
import { negotiate } from '../http/negotiate.ts';
import { applyJsonPatch, applyMergePatch, applyServerSide, applyStrategicMergePatch, ApplyConflictError, PatchError } from '../patch/index.ts';
import { boolParam } from './query.ts';
import { respondObject, writeOptions, type HandlerContext } from './resource.ts';

type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export async function patchResource(ctx: HandlerContext): Promise<void> {
  const { info, registry, query } = ctx;
  const r = info.resource;
  const neg = negotiate(ctx.req.headers.accept, { allowTable: true });
  const type = PATCH_TYPES[mediaType(ctx.req.headers['content-type'])];
  if (!type) throw unsupportedMediaType(mediaType(ctx.req.headers['content-type']));
  const text = (await readBody(ctx.req)).toString('utf8');
  const patch = type === 'apply' ? parseYaml(text) : parseJson(text);
  if (type === 'json' ? !Array.isArray(patch) : !isPlainObject(patch)) {
    throw badRequest(type === 'json' ? 'json: cannot unmarshal object into Go value of type jsonpatch.Patch' : 'the patch must be a JSON object');
  }
  const opts = { ...writeOptions(ctx), subresource: info.subresource as 'status' | undefined };
  const force = boolParam(query, 'force') ?? false;
  if (type !== 'apply' && query.has('force')) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
  const schema = schemaForKind(r.group, r.version, r.kind);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  if (info.subresource === 'scale') {
    const { patchScale } = await import('./scale.ts');
    return patchScale(ctx, (scale) => applyPatchOf(type, scale, patch, undefined));
  }

  if (type === 'apply') {
    if (!opts.fieldManager || !query.get('fieldManager')) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
    const applied = patch as KObject;
    if (applied.apiVersion !== groupVersion(r) || applied.kind !== r.kind) {
      throw badRequest(`the API version/kind in the data (${String(applied.apiVersion)}/${String(applied.kind)}) does not match the expected (${groupVersion(r)}/${r.kind})`);
    }
    const existing = await registry.tryGet(r, info.namespace, info.name!);
    if (!existing) {
      if (info.subresource) throw badRequest('cannot apply to the status of an object that does not exist');
      const obj = withErrors(() => applyServerSide({ live: undefined, applied: prepareApplied(applied, info.name!), manager: opts.fieldManager!, force, schema, apiVersion: groupVersion(r), now }));
      const created = await registry.create(r, info.namespace, obj, { ...opts, fieldManager: undefined });
      return respondObject(ctx, 201, created, neg);
    }
    const updated = await registry.guaranteedUpdate(r, info.namespace, info.name!, (live) =>
      withErrors(() => applyServerSide({ live, applied: prepareApplied(applied, info.name!), manager: opts.fieldManager!, force, schema, apiVersion: groupVersion(r), now })),
    { ...opts, fieldManager: undefined });
    return respondObject(ctx, 200, updated, neg);
  }

  const updated = await registry.guaranteedUpdate(r, info.namespace, info.name!, (current) => {
    const result = withErrors(() => applyPatchOf(type, current, patch, schema)) as KObject;
    if (!isPlainObject(result)) throw badRequest('the patch produced something other than an object');
    // A resourceVersion in the patch is a precondition (kubectl edit/apply rely on it).
    const wanted = (result.metadata as KObject['metadata'] | undefined)?.resourceVersion;
    if (wanted !== undefined && wanted !== current.metadata.resourceVersion) throw staleObject(r, info.name!);
    return result;
  }, opts);
  respondObject(ctx, 200, updated, neg);
}

function applyPatchOf(type: PatchType, current: unknown, patch: unknown, schema: ReturnType<typeof schemaForKind>): unknown {
  switch (type) {
    case 'json': return applyJsonPatch(current, patch);
    case 'merge': return applyMergePatch(current, patch);
    case 'strategic': return applyStrategicMergePatch(current, patch, schema);
    case 'apply': return applyMergePatch(current, patch);
  }
}

function prepareApplied(applied: KObject, name: string): KObject {
  const obj = structuredClone(applied);
  obj.metadata ??= {};
  if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  obj.metadata.name = name;
  return obj;
}

/** Turns the patch module's errors into API errors. */
function withErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApplyConflictError) {
      throw new ApiError(409, 'Conflict', err.message, {
        causes: err.conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: c.field })),
      });
    }
    if (err instanceof PatchError) throw new ApiError(err.code, err.code === 422 ? 'Invalid' : 'BadRequest', err.message);
    throw err;
  }
}
