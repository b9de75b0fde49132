// Events as Kubernetes components record them: core/v1 Events about an object, with the
// same reason and message counted on one Event (count, lastTimestamp) instead of piling up.
import type { KObject } from '../api/object.ts';
import type { Registry } from '../apiserver/registry/registry.ts';
import { lookupResource } from '../api/scheme.ts';
import type { Logger } from '../util/log.ts';

const EVENTS = lookupResource('', 'v1', 'events')!;
/** Repeats within this window update the existing Event. */
const AGGREGATE_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 4096;

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  event(obj: KObject, type: EventType, reason: string, message: string): void;
}

export class RegistryEventRecorder implements EventRecorder {
  readonly #registry: Registry;
  readonly #component: string;
  readonly #log: Logger;
  readonly #now: () => number;
  /** (object uid, reason, message) → the Event that counts it. */
  readonly #recent = new Map<string, { name: string; namespace: string; at: number }>();
  #seq = 0;

  constructor(registry: Registry, component: string, log: Logger, now: () => number = Date.now) {
    this.#registry = registry;
    this.#component = component;
    this.#log = log;
    this.#now = now;
  }

  event(obj: KObject, type: EventType, reason: string, message: string): void {
    // Recording is best effort: it never fails or slows the caller.
    this.#record(obj, type, reason, message).catch((err) => this.#log.debug('event not recorded', { reason, error: String(err) }));
  }

  async #record(obj: KObject, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata.namespace ?? 'default';
    const id = `${obj.metadata.uid}\x00${reason}\x00${message}`;
    const now = this.#now();
    const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const seen = this.#recent.get(id);
    if (seen && now - seen.at < AGGREGATE_MS) {
      seen.at = now;
      try {
        await this.#registry.guaranteedUpdate(EVENTS, seen.namespace, seen.name, (ev) => {
          ev.count = ((ev.count as number | undefined) ?? 1) + 1;
          ev.lastTimestamp = stamp;
          return ev;
        }, { fieldManager: this.#component });
        return;
      } catch {
        this.#recent.delete(id); // gone (namespace deleted, TTL): record a fresh one
      }
    }
    const created = await this.#registry.create(EVENTS, namespace, {
      apiVersion: 'v1', kind: 'Event',
      // Named as client-go names them: <object>.<hex nanoseconds>.
      metadata: { name: `${obj.metadata.name ?? 'object'}.${(BigInt(now) * 1_000_000n + BigInt(++this.#seq % 1_000_000)).toString(16)}`, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace,
        uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion,
      },
      reason, message, type, count: 1,
      source: { component: this.#component },
      firstTimestamp: stamp, lastTimestamp: stamp,
      reportingComponent: this.#component, reportingInstance: this.#component,
    }, { fieldManager: this.#component });
    if (this.#recent.size >= MAX_REMEMBERED) this.#recent.delete(this.#recent.keys().next().value!);
    this.#recent.set(id, { name: created.metadata.name!, namespace, at: now });
  }
}
