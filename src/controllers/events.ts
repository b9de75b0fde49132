// Events as Kubernetes components record them: core/v1 Events about an object, with the
// same reason and message counted on one Event (count, lastTimestamp) instead of piling up.
import type { KObject } from '../api/object.ts';
import type { Registry } from '../apiserver/registry/registry.ts';
import { lookupResource } from '../api/scheme.ts';
import type { Logger } from '../util/log.ts';
import type { ResourceInterface } from '../client/types.ts';

const EVENTS = lookupResource('', 'v1', 'events')!;
/** Repeats within this window update the existing Event. */
const AGGREGATE_MS = 10 * 60 * 1000;
const MAX_REMEMBERED = 4096;

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  event(obj: KObject, type: EventType, reason: string, message: string): void;
}

/** Where Events go: the registry (in the server) or an API client (in an agent). */
interface EventSink {
  create(namespace: string, event: KObject, fieldManager: string): Promise<KObject>;
  /** count + 1 and a new lastTimestamp on an existing Event; throws if it is gone. */
  bump(namespace: string, name: string, stamp: string, fieldManager: string): Promise<void>;
}

class AggregatingRecorder implements EventRecorder {
  readonly #sink: EventSink;
  readonly #component: string;
  readonly #host: string | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  /** (object uid, reason, message) → the Event that counts it. */
  readonly #recent = new Map<string, { name: string; namespace: string; at: number; count: number }>();
  #seq = 0;

  constructor(sink: EventSink, component: string, log: Logger, now: () => number, host?: string) {
    this.#sink = sink;
    this.#component = component;
    this.#host = host;
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
        await this.#sink.bump(seen.namespace, seen.name, stamp, this.#component);
        return;
      } catch {
        this.#recent.delete(id); // gone (namespace deleted, TTL): record a fresh one
      }
    }
    const created = await this.#sink.create(namespace, {
      apiVersion: 'v1', kind: 'Event',
      // Named as client-go names them: <object>.<hex nanoseconds>.
      metadata: { name: `${obj.metadata.name ?? 'object'}.${(BigInt(now) * 1_000_000n + BigInt(++this.#seq % 1_000_000)).toString(16)}`, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion ?? 'v1', kind: obj.kind ?? 'Pod', name: obj.metadata.name, namespace: obj.metadata.namespace,
        uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion,
      },
      reason, message, type, count: 1,
      source: { component: this.#component, ...(this.#host ? { host: this.#host } : {}) },
      firstTimestamp: stamp, lastTimestamp: stamp,
      reportingComponent: this.#component, reportingInstance: this.#host ?? this.#component,
    }, this.#component);
    if (this.#recent.size >= MAX_REMEMBERED) this.#recent.delete(this.#recent.keys().next().value!);
    this.#recent.set(id, { name: created.metadata.name!, namespace, at: now, count: 1 });
  }
}

export class RegistryEventRecorder extends AggregatingRecorder {
  constructor(registry: Registry, component: string, log: Logger, now: () => number = Date.now) {
    super({
      create: (ns, ev, fieldManager) => registry.create(EVENTS, ns, ev, { fieldManager }),
      bump: async (ns, name, stamp, fieldManager) => {
        await registry.guaranteedUpdate(EVENTS, ns, name, (ev) => {
          ev.count = ((ev.count as number | undefined) ?? 1) + 1;
          ev.lastTimestamp = stamp;
          return ev;
        }, { fieldManager });
      },
    }, component, log, now);
  }
}

/** Events through an API client, as an agent on another machine records them. */
export class ClientEventRecorder extends AggregatingRecorder {
  constructor(events: ResourceInterface, source: { component: string; host?: string }, log: Logger, now: () => number = Date.now) {
    super({
      create: (ns, ev, fieldManager) => events.create(ev, { fieldManager }),
      bump: async (ns, name, stamp, fieldManager) => {
        const ev = await events.get(ns, name);
        await events.update({ ...ev, count: ((ev.count as number | undefined) ?? 1) + 1, lastTimestamp: stamp }, { fieldManager });
      },
    }, source.component, log, now, source.host);
  }
}
