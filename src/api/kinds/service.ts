// Service (core/v1): defaults, validation (DNS-1035 name, ports, type, node ports),
// carrying allocated values over on update, and the `kubectl get svc` table.
// Cluster IP and node port allocation happen elsewhere.
import { duplicate, forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import {
  formatLabelMap, inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, isIP, isValidPortNum, nameIsDNS1035Label,
  validateLabels, validatePortNumOrName, validateProtocol,
} from '../validation/index.ts';
import { arr, child, num, obj, objs, setDefault, str, strMap, type Json } from './access.ts';
import { AGE, col, wide } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

const isHeadless = (spec: Json): boolean => spec.clusterIP === 'None';

function defaultService(svc: KObject): void {
  const spec = child(svc, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    setDefault(child(child(spec, 'sessionAffinityConfig'), 'clientIP'), 'timeoutSeconds', 10800);
  }
  for (const p of objs(spec.ports)) {
    setDefault(p, 'protocol', 'TCP');
    if (p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (spec.type !== 'ExternalName') {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'ipFamilies', ['IPv4']);
    // clusterIPs mirrors clusterIP when only the singular field was given.
    if (typeof spec.clusterIP === 'string' && spec.clusterIP && arr(spec.clusterIPs).length === 0) spec.clusterIPs = [spec.clusterIP];
  }
}

// Go's %#v of the (port, protocol) key Kubernetes reports duplicate ports with.
const goServicePortKey = (port: unknown, protocol: unknown): string =>
  `core.ServicePort{Name:"", Protocol:${JSON.stringify(str(protocol))}, AppProtocol:(*string)(nil), Port:${num(port)}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;

function validatePorts(spec: Json, type: string): FieldError[] {
  const errs: FieldError[] = [];
  const ports = objs(spec.ports);
  if (ports.length === 0 && !isHeadless(spec) && type !== 'ExternalName') errs.push(required('spec.ports'));
  const names = new Set<string>();
  const keys = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    const name = str(p.name);
    if (ports.length > 1 && !name) errs.push(required(`${at}.name`));
    if (name) {
      errs.push(...isDNS1123Label(name).map((m) => invalid(`${at}.name`, name, m)));
      if (names.has(name)) errs.push(duplicate(`${at}.name`, name));
      names.add(name);
    }
    // A missing port decodes to 0 in Kubernetes, which is reported as out of range.
    if (!isValidPortNum(p.port)) errs.push(invalid(`${at}.port`, p.port ?? 0, inclusiveRangeError(1, 65535)));
    errs.push(...validateProtocol(`${at}.protocol`, p.protocol));
    if (p.targetPort !== undefined) errs.push(...validatePortNumOrName(`${at}.targetPort`, p.targetPort));
    const key = `${String(p.port)}/${str(p.protocol)}`;
    if (keys.has(key)) {
      errs.push({ type: 'FieldValueDuplicate', field: at, message: `Duplicate value: ${goServicePortKey(p.port, p.protocol)}` });
    }
    keys.add(key);
    if (p.nodePort !== undefined && p.nodePort !== null && p.nodePort !== 0) {
      if (type === 'ClusterIP' || type === 'ExternalName') {
        errs.push(forbidden(`${at}.nodePort`, `may not be used when \`type\` is '${type}'`));
      } else if (typeof p.nodePort !== 'number' || p.nodePort < NODE_PORT_RANGE.min || p.nodePort > NODE_PORT_RANGE.max) {
        errs.push(invalid(`${at}.nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`));
      } else {
        const npKey = `${p.nodePort}/${str(p.protocol)}`;
        if (nodePorts.has(npKey)) errs.push(duplicate(`${at}.nodePort`, p.nodePort));
        nodePorts.add(npKey);
      }
    }
  });
  return errs;
}

function validateServiceSpec(svc: KObject): FieldError[] {
  const spec = obj(svc.spec);
  const type = str(spec.type);
  const errs: FieldError[] = [];
  if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', spec.type, SERVICE_TYPES));
  errs.push(...validatePorts(spec, type));
  if (type === 'ExternalName') {
    const externalName = str(spec.externalName);
    if (!externalName) errs.push(required('spec.externalName'));
    else errs.push(...isDNS1123Subdomain(externalName.replace(/\.$/, '')).map((m) => invalid('spec.externalName', externalName, m)));
    if (spec.clusterIP) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  }
  if (typeof spec.clusterIP === 'string' && spec.clusterIP && spec.clusterIP !== 'None' && !isIP(spec.clusterIP)) {
    errs.push(invalid('spec.clusterIPs[0]', spec.clusterIP, 'must be empty, \'None\', or a valid IP address'));
  }
  if (!['ClientIP', 'None'].includes(spec.sessionAffinity as string)) errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  if (spec.internalTrafficPolicy !== undefined && !['Cluster', 'Local'].includes(spec.internalTrafficPolicy as string)) {
    errs.push(notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, ['Cluster', 'Local']));
  }
  if (spec.externalTrafficPolicy !== undefined) {
    if (type !== 'NodePort' && type !== 'LoadBalancer') {
      errs.push(invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    } else if (!['Cluster', 'Local'].includes(spec.externalTrafficPolicy as string)) {
      errs.push(notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, ['Cluster', 'Local']));
    }
  }
  errs.push(...validateLabels('spec.selector', spec.selector));
  arr(spec.externalIPs).forEach((ip, i) => {
    if (typeof ip !== 'string' || !isIP(ip)) errs.push(invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  return errs;
}

/** A PUT that omits allocated values (clusterIP, node ports) keeps them, as Kubernetes does. */
function keepAllocated(svc: KObject, old: KObject): void {
  const spec = child(svc, 'spec');
  const oldSpec = obj(old.spec);
  if (spec.type === 'ExternalName') return;
  if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
  if (arr(spec.clusterIPs).length === 0 && arr(oldSpec.clusterIPs).length > 0) spec.clusterIPs = oldSpec.clusterIPs;
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    const oldPorts = objs(oldSpec.ports);
    for (const p of objs(spec.ports)) {
      if (p.nodePort) continue;
      const match = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP') && o.nodePort);
      if (match) p.nodePort = match.nodePort;
    }
  }
}

function validateServiceUpdate(svc: KObject, old: KObject): FieldError[] {
  const spec = obj(svc.spec);
  const oldSpec = obj(old.spec);
  // Switching to ExternalName releases the IP; otherwise an allocated IP may not change.
  if (spec.type !== 'ExternalName' && oldSpec.clusterIP && spec.clusterIP !== oldSpec.clusterIP) {
    return [invalid('spec.clusterIPs[0]', spec.clusterIP ?? '', 'may not change once set')];
  }
  return [];
}

/** EXTERNAL-IP the way kubectl shows it for each service type. */
function externalIP(svc: KObject): string {
  const spec = obj(svc.spec);
  const externalIPs = arr(spec.externalIPs).map(String);
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
    case undefined:
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = objs(obj(obj(svc.status).loadBalancer).ingress).map((i) => str(i.ip) || str(i.hostname)).filter(Boolean);
      const all = [...ingress, ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec.externalName);
    default:
      return '<unknown>';
  }
}

function portsCell(spec: Json): string {
  const text = objs(spec.ports).map((p) => (num(p.nodePort) > 0
    ? `${num(p.port)}:${num(p.nodePort)}/${str(p.protocol)}`
    : `${num(p.port)}/${str(p.protocol)}`)).join(',');
  return text || '<none>';
}

export const serviceKind: KindDefinition = {
  nameValidator: nameIsDNS1035Label,
  defaults: defaultService,
  prepareForCreate(svc) { svc.status = { loadBalancer: {} }; },
  prepareForUpdate: keepAllocated,
  validate: validateServiceSpec,
  validateUpdate: validateServiceUpdate,
  table: {
    columns: [
      col('Type', 'string', 0, 'type determines how the Service is exposed.'),
      col('Cluster-IP', 'string', 0, 'clusterIP is the IP address of the service.'),
      col('External-IP', 'string', 0, 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
      col('Port(s)', 'string', 0, 'The list of ports that are exposed by this service.'),
      AGE,
      wide('Selector'),
    ],
    cells(svc, now) {
      const spec = obj(svc.spec);
      const clusterIP = str(arr(spec.clusterIPs)[0]) || str(spec.clusterIP) || '<none>';
      return [str(spec.type), clusterIP, externalIP(svc), portsCell(spec), since(svc.metadata.creationTimestamp, now),
        formatLabelMap(strMap(spec.selector)) || '<none>'];
    },
  },
};
