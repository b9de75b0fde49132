// The /scale subresource: an autoscaling/v1 Scale view of spec.replicas.
import type { KObject } from '../../api/object.ts';
import { isPlainObject } from '../../api/object.ts';
import { ApiError, badRequest, invalid, staleObject } from '../errors.ts';
import { negotiate } from '../http/negotiate.ts';
import { send } from '../http/respond.ts';
import { readObject, writeOptions, warningHeaders, type HandlerContext } from './resource.ts';
import { mutateScale, scaleAdmitted, scaleView, validateScale } from '../admission/webhook/index.ts';

function scaleDef(ctx: HandlerContext) {
  const def = ctx.registry.strategy(ctx.info.resource).scale;
  if (!def) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  return def;
}

function toScale(ctx: HandlerContext, obj: KObject): KObject {
  return scaleView(scaleDef(ctx), obj);
}

export async function getScale(ctx: HandlerContext): Promise<void> {
  const neg = negotiate(ctx.req.headers.accept);
  const obj = await ctx.registry.get(ctx.info.resource, ctx.info.namespace, ctx.info.name!);
  send(ctx.res, 200, toScale(ctx, obj), neg.format);
}

export async function updateScale(ctx: HandlerContext): Promise<void> {
  const body = await readObject(ctx);
  await applyScale(ctx, () => body);
}

export async function patchScale(ctx: HandlerContext, patch: (scale: KObject) => unknown): Promise<void> {
  await applyScale(ctx, (scale) => patch(scale) as KObject);
}

async function applyScale(ctx: HandlerContext, change: (scale: KObject) => KObject): Promise<void> {
  const { info, registry } = ctx;
  const def = scaleDef(ctx);
  const neg = negotiate(ctx.req.headers.accept);
  const opts = writeOptions(ctx);
  let result: KObject | undefined;
  const updated = await registry.guaranteedUpdate(info.resource, info.namespace, info.name!, async (current) => {
    const old = toScale(ctx, current);
    const scale = change(structuredClone(old));
    if (!isPlainObject(scale) || !isPlainObject(scale.spec)) throw badRequest('the body must be an autoscaling/v1 Scale');
    const wanted = scale.metadata?.resourceVersion;
    if (wanted && wanted !== current.metadata.resourceVersion) throw staleObject(info.resource, info.name!);
    // Webhooks see UPDATE of <resource>/scale with Scale objects (admission/webhook/scale.ts).
    const write = { resource: info.resource, namespace: info.namespace, name: info.name!, scale, old, user: ctx.user, dryRun: opts.dryRun, fieldManager: opts.fieldManager, warnings: ctx.warnings };
    await mutateScale(registry, write);
    const replicas = (scale.spec as { replicas?: unknown }).replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('Scale', 'autoscaling', info.name!, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    await validateScale(registry, write);
    def.setSpecReplicas(current, replicas);
    return current;
  }, scaleAdmitted({ ...opts, fieldValidation: 'Ignore' as const }));
  result = toScale(ctx, updated);
  send(ctx.res, 200, result, neg.format, warningHeaders(ctx.warnings));
}
