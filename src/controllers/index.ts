// Every controller the server runs (while it holds the controller Lease), in start order.
import type { Registry } from '../apiserver/registry/registry.ts';
import type { Logger } from '../util/log.ts';
import { SchedulerController } from '../scheduler/controller.ts';
import { GarbageCollector } from './garbagecollector/controller.ts';
import { NamespaceController } from './namespace/controller.ts';
import type { Controller } from './types.ts';

/** Wraps a component that manages its own watches as a Controller. */
function component(name: string, make: () => { start(): Promise<void>; stop(): void }): Controller {
  let running: { stop(): void } | undefined;
  return {
    name,
    async start() { const c = make(); running = c; await c.start(); },
    stop() { running?.stop(); running = undefined; },
  };
}

export function builtInControllers(registry: Registry, log: Logger): Controller[] {
  return [
    component('namespace', () => new NamespaceController(registry, log.child('namespace-controller'))),
    component('garbage-collector', () => new GarbageCollector(registry, log.child('garbage-collector'))),
    new SchedulerController(registry),
  ];
}
