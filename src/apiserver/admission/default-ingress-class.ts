// DefaultIngressClass admission: an Ingress created with neither spec.ingressClassName nor
// the old `kubernetes.io/ingress.class` annotation gets the IngressClass marked
// `ingressclass.kubernetes.io/is-default-class: "true"` (the newest, if several are), as
// kube-apiserver does. Skiff's own class `skiff` carries that mark.
import type { KObject } from '../../api/object.ts';
import { DEFAULT_CLASS_ANNOTATION } from '../../api/kinds/ingressclass.ts';

export function admitDefaultIngressClass(ingress: KObject, classes: KObject[]): void {
  const spec = (ingress.spec ??= {}) as Record<string, unknown>;
  if (spec.ingressClassName || ingress.metadata.annotations?.['kubernetes.io/ingress.class']) return;
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  if (!defaults.length) return;
  defaults.sort((a, b) => String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')) || String(a.metadata.name).localeCompare(String(b.metadata.name)));
  spec.ingressClassName = defaults[0]!.metadata.name;
}
