// What every controller gets and gives. A controller follows the Kubernetes shape
// (STYLE.md): informer handlers only compute a key and enqueue it; a WorkQueue worker
// calls one idempotent sync(key) that reads from informer caches and writes through the
// API client; errors requeue with backoff; one bad object never stops the others.
import { isConflict, type ApiClient } from '../client/types.ts';
import type { SharedInformerFactory } from '../client/informer-factory.ts';
import type { Logger } from '../util/log.ts';
import type { EventRecorder } from './events.ts';

export interface ClusterConfig {
  /** Pod network; node IPAM hands out a /nodeCidrMaskSize per node from it. */
  clusterCidr: string;
  nodeCidrMaskSize: number;
  serviceCidr: string;
}

export interface ControllerContext {
  /** In-process API client (same validation and admission as HTTP). */
  api: ApiClient;
  /** Shared informers: ask for what you need before start() returns; the manager starts them. */
  informers: SharedInformerFactory;
  /** An event recorder reporting as `component`. */
  recorder(component: string): EventRecorder;
  log: Logger;
  config: ClusterConfig;
  /** Milliseconds since the epoch; inject in tests. */
  now(): number;
}

export interface Controller {
  readonly name: string;
  /** Registers informer handlers and starts workers; informers start after every controller's start(). */
  start(ctx: ControllerContext): Promise<void> | void;
  stop(): void;
}

/**
 * A WorkQueue onError that logs a failed sync: a 409 Conflict (someone else wrote the
 * object first; the retry re-reads it) only at debug level, anything else as a warning.
 */
export function logSyncError(log: Logger, msg: string, keyField: string): (key: string, err: unknown) => void {
  return (key, err) => {
    const fields = { [keyField]: key, error: String(err) };
    if (isConflict(err)) log.debug(msg, fields); else log.warn(msg, fields);
  };
}
