// The /scale view of an HPA's target, read and written in-process through the registry and
// the kind's ScaleDef (the same code path as the /scale subresource handler).
import { lookupKind, parseApiVersion } from '../../api/scheme.ts';
import type { Registry } from '../../apiserver/registry/registry.ts';
import { authorizeInProcess, identityOf, unwrapRegistry } from '../../client/inprocess-auth.ts';
import { mutateScale, scaleAdmitted, scaleView, validateScale } from '../../apiserver/admission/webhook/index.ts';

export interface TargetRef { apiVersion?: string; kind: string; name: string }
export interface Scale { replicas: number; statusReplicas: number; selector: string }

export interface ScaleClient {
  get(namespace: string, ref: TargetRef): Promise<Scale>;
  update(namespace: string, ref: TargetRef, replicas: number): Promise<void>;
}

export class RegistryScaleClient implements ScaleClient {
  constructor(readonly registry: Registry, readonly fieldManager = 'skiff-horizontal-pod-autoscaler') {}

  #resolve(ref: TargetRef) {
    const { group, version } = parseApiVersion(ref.apiVersion ?? 'v1');
    const r = lookupKind(group, version, ref.kind);
    if (!r) throw new Error(`unable to determine resource for scale target reference: no matches for kind "${ref.kind}" in group "${group}"`);
    const def = this.registry.strategy(r).scale;
    if (!def || !r.subresources.includes('scale')) throw new Error(`${ref.kind} has no scale subresource`);
    return { r, def };
  }

  async get(namespace: string, ref: TargetRef): Promise<Scale> {
    const { r, def } = this.#resolve(ref);
    // Authorized as the /scale subresource (`*/scale`), as the HTTP scale client would be.
    await authorizeInProcess(identityOf(this.registry), 'get', r, namespace, ref.name, 'scale');
    const o = await unwrapRegistry(this.registry).get(r, namespace, ref.name);
    return { replicas: def.specReplicas(o), statusReplicas: def.statusReplicas(o), selector: def.selector(o) };
  }

  async update(namespace: string, ref: TargetRef, replicas: number): Promise<void> {
    const { r, def } = this.#resolve(ref);
    const id = identityOf(this.registry);
    await authorizeInProcess(id, 'update', r, namespace, ref.name, 'scale');
    const registry = unwrapRegistry(this.registry);
    // As a write to .../scale: webhooks on `<resource>/scale` see it (admission/webhook/scale.ts).
    await registry.guaranteedUpdate(r, namespace, ref.name, async (cur) => {
      const old = scaleView(def, cur);
      const scale = structuredClone(old);
      (scale.spec as { replicas: number }).replicas = replicas;
      const write = { resource: r, namespace, name: ref.name, scale, old, user: id?.user, fieldManager: this.fieldManager };
      await mutateScale(registry, write);
      await validateScale(registry, write);
      def.setSpecReplicas(cur, (scale.spec as { replicas: number }).replicas);
      return cur;
    }, scaleAdmitted({ fieldManager: this.fieldManager, fieldValidation: 'Ignore' as const, user: id?.user }));
  }
}
