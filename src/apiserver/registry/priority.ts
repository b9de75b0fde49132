// Priority admission (Kubernetes' plugin/pkg/admission/priority), on pod create: a pod's
// priorityClassName is resolved to spec.priority and spec.preemptionPolicy; a pod without
// one takes the globalDefault class if there is one, else priority 0. The scheduler and
// preemption read spec.priority only, so without this a named class would mean nothing.
import type { KObject } from '../../api/object.ts';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/kinds/priorityclass.ts';
import { forbidden } from '../errors.ts';

/** What the admission needs from the store: a class by name, and every class. */
export interface PriorityClassSource {
  get(name: string): Promise<KObject | undefined>;
  list(): Promise<KObject[]>;
}

interface Resolved { name: string; value: number; preemptionPolicy?: string }

function fromClass(pc: KObject): Resolved {
  return { name: pc.metadata.name!, value: pc.value as number, preemptionPolicy: pc.preemptionPolicy as string | undefined };
}

/** The globalDefault class; with several, the lowest value (as Kubernetes picks). */
async function globalDefault(source: PriorityClassSource): Promise<Resolved | undefined> {
  let best: KObject | undefined;
  for (const pc of await source.list()) {
    if (pc.globalDefault !== true) continue;
    if (!best || (pc.value as number) < (best.value as number)) best = pc;
  }
  return best && fromClass(best);
}

/** Mutates a pod being created: priorityClassName, priority and preemptionPolicy. */
export async function admitPodPriority(pod: KObject, source: PriorityClassSource): Promise<void> {
  const spec = (pod.spec ??= {}) as Record<string, unknown>;
  const name = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
  const podName = pod.metadata.name ?? pod.metadata.generateName ?? '';
  let resolved: Resolved | undefined;
  if (name) {
    const pc = await source.get(name);
    if (pc) resolved = fromClass(pc);
    // The built-in classes exist even where nobody has created their objects.
    else if (name in SYSTEM_PRIORITY_CLASSES) resolved = { name, value: SYSTEM_PRIORITY_CLASSES[name], preemptionPolicy: 'PreemptLowerPriority' };
    else throw forbidden(`pods "${podName}" is forbidden: no PriorityClass with name ${name} was found`, { name: podName, kind: 'pods' });
  } else {
    resolved = await globalDefault(source);
  }
  const value = resolved?.value ?? 0;
  if (typeof spec.priority === 'number' && spec.priority !== value) {
    throw forbidden(`pods "${podName}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`, { name: podName, kind: 'pods' });
  }
  spec.priority = value;
  if (resolved) {
    spec.priorityClassName = resolved.name;
    const policy = resolved.preemptionPolicy ?? 'PreemptLowerPriority';
    if (typeof spec.preemptionPolicy === 'string' && spec.preemptionPolicy !== policy) {
      throw forbidden(`pods "${podName}" is forbidden: the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`, { name: podName, kind: 'pods' });
    }
    spec.preemptionPolicy = policy;
  }
}
