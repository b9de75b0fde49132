// The root CA certificate publisher (kube-controller-manager's
// pkg/controller/certificates/rootcacertpublisher): every namespace holds a ConfigMap
// `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so pods can verify the API server
// (the kube-api-access volume projects it). Created when a namespace appears, recreated
// when deleted, put back when edited.
import type { KObject } from '../../api/object.ts';
import type { Informer } from '../../client/informer.ts';
import { isAlreadyExists, isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. '
  + 'No other usage is guaranteed across distributions of Kubernetes clusters.';
const FIELD_MANAGER = 'root-ca-cert-publisher';

export interface RootCACertPublisherOptions {
  /** The cluster CA certificate, PEM. */
  caCertPem: string;
}

export class RootCACertPublisher implements Controller {
  readonly name = 'root-ca-cert-publisher';
  readonly #caPem: string;
  #queue?: WorkQueue;
  #namespaces?: Informer;
  #configMaps?: Informer;
  #api?: ResourceInterface;
  readonly #unsubscribe: (() => void)[] = [];

  constructor(opts: RootCACertPublisherOptions) {
    this.#caPem = opts.caCertPem;
  }

  start(ctx: ControllerContext): void {
    this.#api = ctx.api.resource('', 'v1', 'configmaps');
    const namespaces = this.#namespaces = ctx.informers.informer('', 'v1', 'namespaces');
    const configMaps = this.#configMaps = ctx.informers.informer('', 'v1', 'configmaps', { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    const queue = this.#queue = new WorkQueue((ns) => this.sync(ns), {
      onError: logSyncError(ctx.log, 'root CA publisher sync failed', 'namespace'),
    });
    const onConfigMap = (cm: KObject): void => { if (cm.metadata.name === ROOT_CA_CONFIGMAP) queue.add(cm.metadata.namespace!); };
    this.#unsubscribe.push(
      namespaces.addEventHandler({
        onAdd: (ns) => queue.add(ns.metadata.name!),
        onUpdate: (_old, ns) => queue.add(ns.metadata.name!),
      }),
      configMaps.addEventHandler({
        onUpdate: (_old, cm) => onConfigMap(cm),
        onDelete: onConfigMap,
      }),
    );
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.#namespaces!.get(namespace);
    if (!ns || terminating(ns)) return;
    const data = { 'ca.crt': this.#caPem };
    const cm = this.#configMaps!.getByName(namespace, ROOT_CA_CONFIGMAP);
    try {
      if (!cm) {
        await this.#api!.create({
          apiVersion: 'v1', kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
          data,
        }, { fieldManager: FIELD_MANAGER });
        return;
      }
      const current = (cm.data ?? {}) as Record<string, string>;
      const same = Object.keys(current).length === 1 && current['ca.crt'] === this.#caPem;
      if (same && cm.metadata.annotations?.[DESCRIPTION_ANNOTATION]) return;
      const next = structuredClone(cm);
      next.data = data;
      next.metadata.annotations = { ...next.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION };
      await this.#api!.update(next, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      if (isAlreadyExists(err)) return; // our cache is behind; the add event brings us back
      // The namespace went away or started terminating meanwhile.
      if (isNotFound(err) || (err as { code?: number }).code === 403) return;
      throw err;
    }
  }
}

function terminating(ns: KObject): boolean {
  return Boolean(ns.metadata.deletionTimestamp) || (ns.status as { phase?: string } | undefined)?.phase === 'Terminating';
}
