// Ingress (networking.k8s.io): rules or a default backend, path types, backends that name
// a service port or a resource; the `kubectl get ingress` table.
import { invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isDNS1123Label, isDNS1123Subdomain, isIP, validatePortNumber } from '../validation/index.ts';
import { arr, obj, objs, str, type Json } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';
import { prepareGenerationOnUpdate } from './workload.ts';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

function validateBackend(b: Json, path: string): FieldError[] {
  const service = b.service === undefined ? undefined : obj(b.service);
  if (service && b.resource !== undefined) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (!service && b.resource === undefined) return [invalid(path, '', 'resource or service backend is required')];
  if (!service) return [];
  const errs: FieldError[] = [];
  const name = str(service.name);
  if (!name) errs.push(required(`${path}.service.name`));
  else errs.push(...isDNS1123Label(name).map((m) => invalid(`${path}.service.name`, name, m)));
  const port = obj(service.port);
  if (port.name !== undefined && port.number !== undefined) errs.push(invalid(`${path}.service.port`, port, 'cannot set both port name & port number'));
  else if (port.name !== undefined) errs.push(...isDNS1123Label(str(port.name)).map((m) => invalid(`${path}.service.port.name`, port.name, m)));
  else if (port.number !== undefined) errs.push(...validatePortNumber(`${path}.service.port.number`, port.number));
  else errs.push(required(`${path}.service.port`, 'port name or number is required'));
  return errs;
}

function validateHost(host: string, path: string): FieldError[] {
  if (isIP(host)) return [invalid(path, host, 'must be a DNS name, not an IP address')];
  const bare = host.startsWith('*.') ? host.slice(2) : host;
  return isDNS1123Subdomain(bare).map((m) => invalid(path, host, m));
}

function validateIngress(ing: KObject): FieldError[] {
  const spec = obj(ing.spec);
  const errs: FieldError[] = [];
  const rules = objs(spec.rules);
  if (rules.length === 0 && spec.defaultBackend === undefined) {
    errs.push(invalid('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend !== undefined) errs.push(...validateBackend(obj(spec.defaultBackend), 'spec.defaultBackend'));
  rules.forEach((rule, i) => {
    const at = `spec.rules[${i}]`;
    if (str(rule.host)) errs.push(...validateHost(str(rule.host), `${at}.host`));
    if (rule.http === undefined) return;
    const paths = objs(obj(rule.http).paths);
    if (paths.length === 0) errs.push(required(`${at}.http.paths`));
    paths.forEach((p, j) => {
      const pAt = `${at}.http.paths[${j}]`;
      const pathType = p.pathType;
      if (!pathType) errs.push(required(`${pAt}.pathType`, 'pathType must be specified'));
      else if (!PATH_TYPES.includes(pathType as string)) errs.push(notSupported(`${pAt}.pathType`, pathType, PATH_TYPES));
      if ((pathType === 'Exact' || pathType === 'Prefix') && !str(p.path).startsWith('/')) {
        errs.push(invalid(`${pAt}.path`, str(p.path), 'must be an absolute path'));
      }
      errs.push(...validateBackend(obj(p.backend), `${pAt}.backend`));
    });
  });
  objs(spec.tls).forEach((t, i) => arr(t.hosts).forEach((h, j) => errs.push(...validateHost(String(h), `spec.tls[${i}].hosts[${j}]`))));
  return errs;
}

/** At most three hosts, "*" when no rule names one. */
function hostsCell(rules: Json[]): string {
  const hosts = rules.slice(0, 3).map((r) => str(r.host)).filter(Boolean);
  if (hosts.length === 0) return '*';
  return rules.length > 3 ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

export const ingressKind: KindDefinition = {
  prepareForCreate(ing) {
    ing.status = { loadBalancer: {} };
    ing.metadata.generation = 1;
  },
  prepareForUpdate: prepareGenerationOnUpdate,
  validate: validateIngress,
  table: {
    columns: [
      col('Class', 'string', 0, 'The name of the IngressClass resource that should be used for ingress.'),
      col('Hosts', 'string', 0, 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'string', 0, 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'string', 0, 'Ports of TLS configurations that open'),
      AGE,
    ],
    cells(ing, now) {
      const spec = obj(ing.spec);
      const address = objs(obj(obj(ing.status).loadBalancer).ingress).map((i) => str(i.ip) || str(i.hostname)).filter(Boolean).join(',');
      return [
        str(spec.ingressClassName) || '<none>', hostsCell(objs(spec.rules)), address,
        objs(spec.tls).length > 0 ? '80, 443' : '80', since(ing.metadata.creationTimestamp, now),
      ];
    },
  },
};
