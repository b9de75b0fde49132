// Admission for writes through the /scale subresource, as kube-apiserver presents them:
// UPDATE of `<resource>/scale` with an autoscaling/v1 Scale as object and oldObject, so a
// webhook on `deployments/scale` (or `*/scale`) sees replica changes and one on
// `deployments` does not. The registry's own UPDATE of the main resource that carries the
// change out is marked (`scaleAdmitted`) so it is not offered to webhooks a second time.
import type { KObject } from '../../../api/object.ts';
import type { ResourceInfo } from '../../../api/scheme.ts';
import type { ScaleDef } from '../../../api/kinds/types.ts';
import type { UserInfo } from '../../authn/types.ts';
import type { Registry } from '../../registry/registry.ts';
import { WebhookAdmission } from './dispatcher.ts';
import { cacheSource } from './source.ts';
import type { AdmissionAttributes } from './types.ts';

/** The autoscaling/v1 Scale view of an object (what GET .../scale answers). */
export function scaleView(def: ScaleDef, obj: KObject): KObject {
  const m = obj.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: def.specReplicas(obj) },
    status: { replicas: def.statusReplicas(obj), selector: def.selector(obj) },
  };
}

const ADMITTED = Symbol('admitted as /scale');
const SCALE_KIND = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
const dispatchers = new WeakMap<Registry, WebhookAdmission>();

/** Marks write options: the webhooks saw this write as a /scale UPDATE already. */
export function scaleAdmitted<T extends object>(opts: T): T {
  return Object.assign(opts, { [ADMITTED]: true });
}

export function isScaleAdmitted(opts: object): boolean {
  return (opts as { [ADMITTED]?: boolean })[ADMITTED] === true;
}

export interface ScaleWrite {
  resource: ResourceInfo;
  namespace?: string;
  name: string;
  /** The Scale asked for; mutating webhooks change it in place. */
  scale: KObject;
  /** The Scale as it is now. */
  old: KObject;
  user?: UserInfo;
  dryRun?: boolean;
  fieldManager?: string;
  warnings?: string[];
}

function attributes(w: ScaleWrite): AdmissionAttributes {
  return {
    operation: 'UPDATE', resource: w.resource, subresource: 'scale', namespace: w.namespace, name: w.name,
    object: w.scale, oldObject: w.old, kind: SCALE_KIND, user: w.user, dryRun: w.dryRun,
    fieldManager: w.fieldManager, warnings: w.warnings,
  };
}

function dispatcherFor(registry: Registry): WebhookAdmission {
  let d = dispatchers.get(registry);
  if (!d) dispatchers.set(registry, d = new WebhookAdmission(cacheSource(registry)));
  return d;
}

/** Mutating webhooks for a /scale write (they may change spec.replicas). */
export function mutateScale(registry: Registry, w: ScaleWrite): Promise<void> {
  return dispatcherFor(registry).mutate(attributes(w));
}

/** Validating webhooks for a /scale write (on the Scale after validation). */
export function validateScale(registry: Registry, w: ScaleWrite): Promise<void> {
  return dispatcherFor(registry).validate(attributes(w));
}
