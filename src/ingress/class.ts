// Which Ingresses are Skiff's: shared by the node proxy (src/ingress/routes.ts) and the
// server's status controller (src/controllers/ingressstatus), so both agree on it.
// An Ingress is ours when spec.ingressClassName names an IngressClass whose controller is
// skiff.io/ingress (or is `skiff` itself, even before the class object is seen), when it
// carries the old `kubernetes.io/ingress.class: skiff` annotation, or when it names no
// class at all and one of our classes is marked the default.
import type { KObject } from '../api/object.ts';
import { obj, str } from '../api/kinds/access.ts';
import { DEFAULT_CLASS_ANNOTATION } from '../api/kinds/ingressclass.ts';

export { DEFAULT_CLASS_ANNOTATION };

export const INGRESS_CLASS = 'skiff';
export const INGRESS_CONTROLLER = 'skiff.io/ingress';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export interface ClassSelector {
  /** Names of IngressClasses this controller serves. */
  names: Set<string>;
  /** Whether Ingresses with no class are ours (one of our classes is the default). */
  takesClassless: boolean;
}

/** Reads the IngressClasses once; test Ingresses with isOurs(). */
export function classSelector(classes: Iterable<KObject>): ClassSelector {
  const names = new Set([INGRESS_CLASS]);
  let takesClassless = false;
  for (const ic of classes) {
    if (str(obj(ic.spec).controller) !== INGRESS_CONTROLLER) continue;
    names.add(ic.metadata.name!);
    if (ic.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') takesClassless = true;
  }
  return { names, takesClassless };
}

export function isOurs(ing: KObject, sel: ClassSelector): boolean {
  const className = str(obj(ing.spec).ingressClassName);
  if (className) return sel.names.has(className);
  const legacy = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return sel.names.has(legacy);
  return sel.takesClassless;
}
