// The /scale view of an HPA's target, read and written in-process through the registry and
// the kind's ScaleDef (the same code path as the /scale subresource handler).
import { lookupKind, parseApiVersion } from '../../api/scheme.ts';
import type { Registry } from '../../apiserver/registry/registry.ts';

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
    const o = await this.registry.get(r, namespace, ref.name);
    return { replicas: def.specReplicas(o), statusReplicas: def.statusReplicas(o), selector: def.selector(o) };
  }

  async update(namespace: string, ref: TargetRef, replicas: number): Promise<void> {
    const { r, def } = this.#resolve(ref);
    await this.registry.guaranteedUpdate(r, namespace, ref.name, (cur) => { def.setSpecReplicas(cur, replicas); return cur; }, { fieldManager: this.fieldManager, fieldValidation: 'Ignore' });
  }
}
