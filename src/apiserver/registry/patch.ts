// PATCH semantics shared by the HTTP handler and the in-process client: the patch is
// re-applied to the freshest object on each retry of the read-modify-write, so concurrent
// writers never lose each other's changes; server-side apply may create the object.
import type { KObject } from '../../api/object.ts';
import { isPlainObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { groupVersion } from '../../api/scheme.ts';
import { schemaForKind } from '../../api/openapi/index.ts';
import { ApiError, badRequest, staleObject } from '../errors.ts';
import { applyJsonPatch, applyMergePatch, applyServerSide, applyStrategicMergePatch, ApplyConflictError, PatchError } from '../patch/index.ts';
import type { Registry, WriteOptions } from './registry.ts';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface PatchArgs extends WriteOptions {
  /** Server-side apply: take over fields other managers own. */
  force?: boolean;
}

/** Returns the patched object, and whether server-side apply created it. */
export async function patchObject(
  registry: Registry, r: ResourceInfo, ns: string | undefined, name: string,
  type: PatchType, patch: unknown, opts: PatchArgs,
): Promise<{ obj: KObject; created: boolean }> {
  if (type === 'json' ? !Array.isArray(patch) : !isPlainObject(patch)) {
    throw badRequest(type === 'json' ? 'json: cannot unmarshal object into Go value of type jsonpatch.Patch' : 'the patch must be a JSON object');
  }
  const { force = false, ...write } = opts;
  const schema = schemaForKind(r.group, r.version, r.kind);
  if (type === 'apply') return apply(registry, r, ns, name, patch as KObject, write, force, schema);
  const obj = await registry.guaranteedUpdate(r, ns, name, (current) => {
    const result = patchErrors(() => applyPatchOf(type, current, patch, schema, true));
    if (!isPlainObject(result)) throw badRequest('the patch produced something other than an object');
    // A resourceVersion in the patch is a precondition (kubectl edit/apply rely on it).
    const wanted = (result.metadata as KObject['metadata'] | undefined)?.resourceVersion;
    if (wanted !== undefined && wanted !== current.metadata.resourceVersion) throw staleObject(r, name);
    return result as KObject;
  }, write);
  return { obj, created: false };
}

/**
 * JSON, merge or strategic patch of a plain document (also used for the Scale view).
 * `owned`: `current` is a private copy the patch may change in place (a merge patch does).
 */
export function applyPatchOf(type: Exclude<PatchType, 'apply'> | 'apply', current: unknown, patch: unknown, schema: ReturnType<typeof schemaForKind>, owned = false): unknown {
  switch (type) {
    case 'json': return applyJsonPatch(current, patch);
    case 'strategic': return applyStrategicMergePatch(current, patch, schema);
    case 'merge': case 'apply': return applyMergePatch(current, patch, owned);
  }
}

async function apply(
  registry: Registry, r: ResourceInfo, ns: string | undefined, name: string, body: KObject,
  write: WriteOptions, force: boolean, schema: ReturnType<typeof schemaForKind>,
): Promise<{ obj: KObject; created: boolean }> {
  const manager = write.fieldManager;
  if (!manager) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
  if (body.apiVersion !== groupVersion(r) || body.kind !== r.kind) {
    throw badRequest(`the API version/kind in the data (${String(body.apiVersion)}/${String(body.kind)}) does not match the expected (${groupVersion(r)}/${r.kind})`);
  }
  const applied = structuredClone(body);
  applied.metadata ??= {};
  if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
    throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
  }
  applied.metadata.name = name;
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const args = { applied, manager, force, schema, apiVersion: groupVersion(r), now };
  // The apply result carries its own managedFields: the registry must not record an Update.
  const opts = { ...write, fieldManager: undefined };
  const existing = await registry.tryGet(r, ns, name);
  if (!existing) {
    if (write.subresource) throw badRequest('cannot apply to the status of an object that does not exist');
    return { obj: await registry.create(r, ns, patchErrors(() => applyServerSide({ ...args, live: undefined })), opts), created: true };
  }
  const obj = await registry.guaranteedUpdate(r, ns, name, (live) => patchErrors(() => applyServerSide({ ...args, live })), opts);
  return { obj, created: false };
}

/** The patch module's errors as API errors. */
export function patchErrors<T>(fn: () => T): T {
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
