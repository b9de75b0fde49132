// PATCH over HTTP: pick the patch type from the Content-Type, read the body, and let the
// registry's patch semantics do the rest.
import { badRequest, unsupportedMediaType } from '../errors.ts';
import { mediaType, parseJson, parseYaml, readBody } from '../http/body.ts';
import { negotiate } from '../http/negotiate.ts';
import { applyPatchOf, patchErrors, patchObject, type PatchType } from '../registry/patch.ts';
import { boolParam } from './query.ts';
import { respondObject, writeOptions, type HandlerContext } from './resource.ts';

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export async function patchResource(ctx: HandlerContext): Promise<void> {
  const { info, registry, query } = ctx;
  const neg = negotiate(ctx.req.headers.accept, { allowTable: true });
  const type = PATCH_TYPES[mediaType(ctx.req.headers['content-type'])];
  if (!type) throw unsupportedMediaType(mediaType(ctx.req.headers['content-type']));
  const text = (await readBody(ctx.req)).toString('utf8');
  const patch = type === 'apply' ? parseYaml(text) : parseJson(text);
  if (type !== 'apply' && query.has('force')) throw badRequest('force: Forbidden: may not be specified for non-apply patch');
  if (type === 'apply' && !query.get('fieldManager')) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');

  if (info.subresource === 'scale') {
    const { patchScale } = await import('./scale.ts');
    return patchScale(ctx, (scale) => patchErrors(() => applyPatchOf(type, scale, patch, undefined)));
  }
  const { obj, created } = await patchObject(registry, info.resource, info.namespace, info.name!, type, patch, {
    ...writeOptions(ctx), subresource: info.subresource as 'status' | 'approval' | undefined, force: boolParam(query, 'force') ?? false,
  });
  respondObject(ctx, created ? 201 : 200, obj, neg);
}
