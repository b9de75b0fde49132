// The IngressClass `skiff` (controller skiff.io/ingress), marked the cluster's default as
// k3s marks `traefik`: created at server start when missing, so Ingresses naming it, or no
// class at all, are served by the built-in Ingress controller (src/ingress). An existing
// one is left as the user has it (e.g. with the default annotation removed).
import type { KObject } from '../api/object.ts';
import type { InProcessClient } from '../client/inprocess.ts';
import { DEFAULT_CLASS_ANNOTATION, INGRESS_CLASS, INGRESS_CONTROLLER } from '../ingress/class.ts';
import { ignoreConflict } from './kubernetes-service.ts';

export async function ensureIngressClass(client: InProcessClient): Promise<void> {
  const classes = client.resource('networking.k8s.io', 'v1', 'ingressclasses');
  if (await classes.tryGet(undefined, INGRESS_CLASS)) return;
  await ignoreConflict(classes.create({
    apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass',
    metadata: { name: INGRESS_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' }, labels: { 'app.kubernetes.io/managed-by': 'skiff' } },
    spec: { controller: INGRESS_CONTROLLER },
  } as KObject));
}
