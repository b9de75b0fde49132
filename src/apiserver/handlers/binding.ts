// pods/binding: how a scheduler assigns a pod to a node.
import { isPlainObject } from '../../api/object.ts';
import { badRequest, conflict, successStatus } from '../errors.ts';
import { send } from '../http/respond.ts';
import { readObject, type HandlerContext } from './resource.ts';

export async function bindPod(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const binding = await readObject(ctx);
  if (binding.kind !== undefined && binding.kind !== 'Binding') throw badRequest(`expected a Binding, got ${String(binding.kind)}`);
  const target = binding.target as { kind?: string; name?: string } | undefined;
  if (!isPlainObject(target) || !target.name) {
    throw badRequest('Binding.target.name is required');
  }
  if (target.kind && target.kind !== 'Node') throw badRequest(`Binding.target.kind must be Node, got ${target.kind}`);
  const name = info.name ?? binding.metadata?.name;
  if (!name) throw badRequest('the binding has no pod name');
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await registry.guaranteedUpdate(info.resource, info.namespace, name, (pod) => {
    const spec = pod.spec as { nodeName?: string };
    if (pod.metadata.deletionTimestamp) throw conflict(info.resource, name, 'pod is being deleted, cannot be assigned to a host');
    if (spec.nodeName) throw conflict(info.resource, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    spec.nodeName = target.name;
    const status = (pod.status ??= {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string; lastProbeTime?: null }[] };
    const conditions = (status.conditions ??= []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
    status.conditions = conditions;
    return pod;
  }, { fieldManager: ctx.query.get('fieldManager') ?? 'skiff-scheduler', subresource: 'binding' });
  send(ctx.res, 201, successStatus());
}
