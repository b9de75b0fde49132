// NetworkPolicy (networking.k8s.io): policyTypes default from the rules given; selectors,
// ports and CIDRs validated; the table shows the pod selector.
import { invalid, notSupported, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { formatLabelSelector, validateLabelSelector, validatePortNumOrName, validateProtocol, type LabelSelector } from '../validation/index.ts';
import { arr, child, obj, objs, setDefault, str, type Json } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import { prepareGenerationOnUpdate, setInitialGeneration } from './workload.ts';

const POLICY_TYPES = ['Ingress', 'Egress'];

function defaultNetworkPolicy(np: KObject): void {
  const spec = child(np, 'spec');
  if (spec.podSelector === undefined) spec.podSelector = {};
  for (const rule of [...objs(spec.ingress), ...objs(spec.egress)]) for (const p of objs(rule.ports)) setDefault(p, 'protocol', 'TCP');
  // Ingress always applies; Egress only when egress rules were written.
  if (arr(spec.policyTypes).length === 0) spec.policyTypes = objs(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

const CIDR_RE = /^([0-9.]+\/[0-9]{1,2}|[0-9a-fA-F:.]+\/[0-9]{1,3})$/;

function validatePeers(peers: Json[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  peers.forEach((peer, i) => {
    errs.push(...validateLabelSelector(`${path}[${i}].podSelector`, peer.podSelector));
    errs.push(...validateLabelSelector(`${path}[${i}].namespaceSelector`, peer.namespaceSelector));
    if (peer.ipBlock !== undefined) {
      const cidr = str(obj(peer.ipBlock).cidr);
      if (!CIDR_RE.test(cidr)) errs.push(invalid(`${path}[${i}].ipBlock.cidr`, cidr, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
    }
  });
  return errs;
}

function validateRules(rules: Json[], path: string, peersKey: 'from' | 'to'): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    objs(rule.ports).forEach((p, j) => {
      errs.push(...validateProtocol(`${path}[${i}].ports[${j}].protocol`, p.protocol));
      if (p.port !== undefined) errs.push(...validatePortNumOrName(`${path}[${i}].ports[${j}].port`, p.port));
    });
    errs.push(...validatePeers(objs(rule[peersKey]), `${path}[${i}].${peersKey}`));
  });
  return errs;
}

function validateNetworkPolicy(np: KObject): FieldError[] {
  const spec = obj(np.spec);
  const errs = [
    ...validateLabelSelector('spec.podSelector', spec.podSelector),
    ...validateRules(objs(spec.ingress), 'spec.ingress', 'from'),
    ...validateRules(objs(spec.egress), 'spec.egress', 'to'),
  ];
  arr(spec.policyTypes).forEach((t, i) => {
    if (!POLICY_TYPES.includes(t as string)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, POLICY_TYPES));
  });
  return errs;
}

export const networkPolicyKind: KindDefinition = {
  defaults: defaultNetworkPolicy,
  prepareForCreate: setInitialGeneration,
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: validateNetworkPolicy,
  table: {
    columns: [col('Pod-Selector', 'string', 0, 'Selects the pods to which this NetworkPolicy object applies.'), AGE],
    cells: (np, now) => [formatLabelSelector(obj(obj(np.spec).podSelector) as LabelSelector) || '<none>', since(np.metadata.creationTimestamp, now)],
  },
};
