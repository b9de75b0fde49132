// pods/binding: how a scheduler assigns a pod to a node.
import { isPlainObject } from '../../api/object.ts';
import { badRequest, successStatus } from '../errors.ts';
import { send } from '../http/respond.ts';
import { bindPod as bind } from '../registry/binding.ts';
import { readObject, type HandlerContext } from './resource.ts';

export async function bindPod(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const binding = await readObject(ctx);
  if (binding.kind !== undefined && binding.kind !== 'Binding') throw badRequest(`expected a Binding, got ${String(binding.kind)}`);
  const target = binding.target as { kind?: string; name?: string } | undefined;
  if (!isPlainObject(target) || !target.name) throw badRequest('Binding.target.name is required');
  if (target.kind && target.kind !== 'Node') throw badRequest(`Binding.target.kind must be Node, got ${target.kind}`);
  const name = info.name ?? binding.metadata?.name;
  if (!name) throw badRequest('the binding has no pod name');
  await bind(registry, info.resource, info.namespace!, name, target.name, ctx.query.get('fieldManager') ?? 'skiff-scheduler');
  send(ctx.res, 201, successStatus());
}
