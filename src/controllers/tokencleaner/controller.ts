// Token cleaner: deletes bootstrap-token Secrets (kube-system, type
// bootstrap.kubernetes.io/token) once their `expiration` has passed, as Kubernetes'
// tokencleaner does. The authenticator already refuses an expired token; this keeps
// `skiff token list` and the namespace tidy.
import type { KObject } from '../../api/object.ts';
import { BOOTSTRAP_TOKEN_TYPE } from '../../apiserver/authn/bootstrap-token.ts';
import type { Informer } from '../../client/informer.ts';
import { isNotFound } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { Wakeups } from '../job/wakeups.ts';
import type { Controller, ControllerContext } from '../types.ts';

export function expiresAt(secret: KObject): number | undefined {
  if ((secret as { type?: string }).type !== BOOTSTRAP_TOKEN_TYPE) return undefined;
  const raw = (secret as { data?: Record<string, string> }).data?.expiration;
  if (!raw) return undefined;
  const at = Date.parse(Buffer.from(raw, 'base64').toString());
  return Number.isNaN(at) ? undefined : at;
}

export class TokenCleaner implements Controller {
  readonly name = 'tokencleaner';
  readonly #queue: WorkQueue;
  readonly #wakeups: Wakeups;
  #ctx!: ControllerContext;
  #secrets!: Informer;

  constructor() {
    this.#queue = new WorkQueue((key) => this.sync(key), {
      concurrency: 1,
      onError: (key, err) => this.#ctx?.log.warn('tokencleaner sync failed', { secret: key, error: String(err) }),
    });
    this.#wakeups = new Wakeups((key) => this.#queue.add(key));
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#secrets = ctx.informers.informer('', 'v1', 'secrets', { namespace: 'kube-system' });
    const consider = (s: KObject) => { if (expiresAt(s) !== undefined) this.#queue.add(`kube-system/${s.metadata.name}`); };
    this.#secrets.addEventHandler({ onAdd: consider, onUpdate: (_o, s) => consider(s), onDelete: (s) => this.#wakeups.cancel(`kube-system/${s.metadata.name}`) });
  }

  stop(): void {
    this.#queue.stop();
    this.#wakeups.stop();
  }

  async sync(key: string): Promise<void> {
    const secret = this.#secrets.get(key);
    const at = secret && expiresAt(secret);
    if (!secret || at === undefined) return;
    const wait = at - this.#ctx.now();
    if (wait > 0) { this.#wakeups.after(key, Math.min(wait, 2 ** 31 - 1)); return; }
    try {
      await this.#ctx.api.resource('', 'v1', 'secrets').delete('kube-system', secret.metadata.name!, { preconditions: { uid: secret.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
