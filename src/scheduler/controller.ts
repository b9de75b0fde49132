// The scheduler as a controller of the server: shared informers feed it pods and nodes;
// its effects go through the registry (binding, PodScheduled=False, events, preemption).
import type { KObject } from '../api/object.ts';
import { lookupResource } from '../api/scheme.ts';
import type { Registry } from '../apiserver/registry/registry.ts';
import { bindPod } from '../apiserver/registry/binding.ts';
import type { Controller, ControllerContext } from '../controllers/types.ts';
import type { EventRecorder } from '../controllers/events.ts';
import { Scheduler } from './scheduler.ts';

const PODS = lookupResource('', 'v1', 'pods')!;
const COMPONENT = 'default-scheduler';
const stamp = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class SchedulerController implements Controller {
  readonly name = 'scheduler';
  readonly #registry: Registry;
  #scheduler?: Scheduler;
  #unsubscribe: (() => void)[] = [];

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  start(ctx: ControllerContext): void {
    const registry = this.#registry;
    const events: EventRecorder = ctx.recorder(COMPONENT);
    const scheduler = new Scheduler({
      log: ctx.log,
      binder: {
        async bind(pod, nodeName) {
          await bindPod(registry, PODS, pod.metadata.namespace!, pod.metadata.name!, nodeName, COMPONENT);
          events.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`);
        },
      },
      recorder: {
        async unschedulable(pod, message) {
          events.event(pod, 'Warning', 'FailedScheduling', message);
          await setUnschedulable(registry, pod, message);
        },
        async preempt(victims, nominatedNode, pod) {
          for (const v of victims) {
            events.event(v, 'Normal', 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${nominatedNode}`);
            await registry.delete(PODS, v.metadata.namespace, v.metadata.name!, { preconditions: { uid: v.metadata.uid } }).catch(() => {});
          }
          await registry.guaranteedUpdate(PODS, pod.metadata.namespace, pod.metadata.name!, (p) => {
            (p.status ??= {} as never as Record<string, unknown>);
            (p.status as Record<string, unknown>).nominatedNodeName = nominatedNode;
            return p;
          }, { subresource: 'status', fieldManager: COMPONENT }).catch(() => {});
        },
      },
    });
    this.#scheduler = scheduler;
    const pods = ctx.informers.informer('', 'v1', 'pods');
    const nodes = ctx.informers.informer('', 'v1', 'nodes');
    this.#unsubscribe.push(nodes.addEventHandler({
      onAdd: (n) => scheduler.onNodeAdd(n),
      onUpdate: (o, n) => scheduler.onNodeUpdate(o, n),
      onDelete: (n) => scheduler.onNodeDelete(n),
    }));
    this.#unsubscribe.push(pods.addEventHandler({
      onAdd: (p) => scheduler.onPodAdd(p),
      onUpdate: (o, n) => scheduler.onPodUpdate(o, n),
      onDelete: (p) => scheduler.onPodDelete(p),
    }));
    scheduler.run();
  }

  stop(): void {
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.#scheduler?.stop();
  }
}

/** PodScheduled=False, reason Unschedulable, with the scheduler's message (as kubectl describe shows). */
async function setUnschedulable(registry: Registry, pod: KObject, message: string): Promise<void> {
  await registry.guaranteedUpdate(PODS, pod.metadata.namespace, pod.metadata.name!, (p) => {
    const status = (p.status ??= {}) as { conditions?: Record<string, unknown>[] };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    const previous = (status.conditions ?? []).find((c) => c.type === 'PodScheduled');
    const changed = previous?.status !== 'False' || previous?.message !== message;
    conditions.push({
      type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null,
      lastTransitionTime: changed ? stamp() : previous?.lastTransitionTime,
    });
    status.conditions = conditions;
    return p;
  }, { subresource: 'status', fieldManager: COMPONENT }).catch(() => {});
}
