// Validation of a PodSpec, used for Pods (at `spec`) and pod templates (at
// `spec.template.spec`, `spec.jobTemplate.spec.template.spec`).
import { duplicate, forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import {
  inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isQuantity, notFound, parseQuantity,
  validateLabels, validatePortName, validatePortNumber, validateProtocol, validateQuantity,
} from '../validation/index.ts';
import { obj, objs, str, type Json } from './access.ts';

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

export const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

const dnsLabelErrors = (field: string, value: string): FieldError[] => isDNS1123Label(value).map((m) => invalid(field, value, m));
const subdomainErrors = (field: string, value: string): FieldError[] => isDNS1123Subdomain(value).map((m) => invalid(field, value, m));

export function validatePodSpec(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const volumeNames = validateVolumes(spec.volumes, `${path}.volumes`, errs);

  const containers = objs(spec.containers);
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  // Names are unique across regular and init containers.
  const names = new Set<string>();
  const checkList = (list: Json[], listPath: string): void => list.forEach((c, i) => {
    errs.push(...validateContainer(c, `${listPath}[${i}]`, volumeNames, names));
  });
  checkList(objs(spec.initContainers), `${path}.initContainers`);
  checkList(containers, `${path}.containers`);
  errs.push(...validateHostPorts(containers, `${path}.containers`));

  if (!spec.restartPolicy) errs.push(required(`${path}.restartPolicy`));
  else if (!RESTART_POLICIES.includes(spec.restartPolicy as string)) errs.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (!spec.dnsPolicy) errs.push(required(`${path}.dnsPolicy`));
  else if (!DNS_POLICIES.includes(spec.dnsPolicy as string)) errs.push(notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));

  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    const a = spec.activeDeadlineSeconds;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 1 || a > 2147483647) {
      errs.push(invalid(`${path}.activeDeadlineSeconds`, a, inclusiveRangeError(1, 2147483647)));
    }
  }
  if (typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds < 0) {
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  errs.push(...validateLabels(`${path}.nodeSelector`, spec.nodeSelector));
  if (spec.serviceAccountName) errs.push(...subdomainErrors(`${path}.serviceAccountName`, str(spec.serviceAccountName)));
  if (spec.nodeName) errs.push(...subdomainErrors(`${path}.nodeName`, str(spec.nodeName)));
  if (spec.hostname) errs.push(...dnsLabelErrors(`${path}.hostname`, str(spec.hostname)));
  if (spec.subdomain) errs.push(...dnsLabelErrors(`${path}.subdomain`, str(spec.subdomain)));
  if (spec.priorityClassName) errs.push(...subdomainErrors(`${path}.priorityClassName`, str(spec.priorityClassName)));
  objs(spec.tolerations).forEach((t, i) => errs.push(...validateToleration(t, `${path}.tolerations[${i}]`)));
  return errs;
}

function validateVolumes(volumes: unknown, path: string, errs: FieldError[]): Set<string> {
  const names = new Set<string>();
  objs(volumes).forEach((v, i) => {
    const p = `${path}[${i}]`;
    const name = str(v.name);
    if (!name) errs.push(required(`${p}.name`));
    else {
      const msgs = isDNS1123Label(name);
      errs.push(...msgs.map((m) => invalid(`${p}.name`, name, m)));
      if (names.has(name)) errs.push(duplicate(`${p}.name`, name));
      names.add(name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (sources.length === 0) errs.push(required(p, 'must specify a volume type'));
    else if (sources.length > 1) errs.push(forbidden(`${p}.${sources[1]}`, 'may not specify more than 1 volume type'));
    if (v.persistentVolumeClaim !== undefined && !str(obj(v.persistentVolumeClaim).claimName)) {
      errs.push(required(`${p}.persistentVolumeClaim.claimName`));
    }
    if (v.hostPath !== undefined && !str(obj(v.hostPath).path)) errs.push(required(`${p}.hostPath.path`));
  });
  return names;
}

function validateContainer(c: Json, path: string, volumeNames: Set<string>, seenNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c.name);
  if (!name) errs.push(required(`${path}.name`));
  else {
    errs.push(...dnsLabelErrors(`${path}.name`, name));
    if (seenNames.has(name)) errs.push(duplicate(`${path}.name`, name));
    seenNames.add(name);
  }
  if (!str(c.image).trim()) errs.push(required(`${path}.image`));
  if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy as string)) {
    errs.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  }
  if (c.terminationMessagePolicy !== undefined && !TERMINATION_MESSAGE_POLICIES.includes(c.terminationMessagePolicy as string)) {
    errs.push(notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES));
  }
  errs.push(...validateContainerPorts(objs(c.ports), `${path}.ports`));
  errs.push(...validateVolumeMounts(objs(c.volumeMounts), `${path}.volumeMounts`, volumeNames));
  errs.push(...validateEnv(objs(c.env), `${path}.env`));
  errs.push(...validateResources(obj(c.resources), `${path}.resources`));
  return errs;
}

function validateContainerPorts(ports: Json[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const at = `${path}[${i}]`;
    const name = str(p.name);
    if (name) {
      const nameErrs = validatePortName(`${at}.name`, name);
      if (nameErrs.length > 0) errs.push(...nameErrs);
      else if (names.has(name)) errs.push(duplicate(`${at}.name`, name));
      names.add(name);
    }
    errs.push(...validatePortNumber(`${at}.containerPort`, p.containerPort));
    errs.push(...validatePortNumber(`${at}.hostPort`, p.hostPort, false));
    errs.push(...validateProtocol(`${at}.protocol`, p.protocol));
  });
  return errs;
}

// Two containers of one pod cannot bind the same host port.
function validateHostPorts(containers: Json[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => objs(c.ports).forEach((p, pi) => {
    if (!p.hostPort) return;
    const key = `${str(p.protocol)}/${str(p.hostIP)}/${String(p.hostPort)}`;
    if (seen.has(key)) errs.push(duplicate(`${path}[${ci}].ports[${pi}].hostPort`, key));
    seen.add(key);
  }));
  return errs;
}

function validateVolumeMounts(mounts: Json[], path: string, volumeNames: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  mounts.forEach((m, i) => {
    const at = `${path}[${i}]`;
    const name = str(m.name);
    if (!name) errs.push(required(`${at}.name`));
    else if (!volumeNames.has(name)) errs.push(notFound(`${at}.name`, name));
    const mountPath = str(m.mountPath);
    if (!mountPath) errs.push(required(`${at}.mountPath`));
    else {
      if (paths.has(mountPath)) errs.push(invalid(`${at}.mountPath`, mountPath, 'must be unique'));
      paths.add(mountPath);
    }
  });
  return errs;
}

function validateEnv(env: Json[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  env.forEach((e, i) => {
    const name = str(e.name);
    if (!name) errs.push(required(`${path}[${i}].name`));
    else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(name)) {
      errs.push(invalid(`${path}[${i}].name`, name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    }
    if (e.value !== undefined && e.valueFrom !== undefined) {
      errs.push(invalid(`${path}[${i}].valueFrom`, '', 'may not be specified when `value` is not empty'));
    }
  });
  return errs;
}

// Extended resources (vendor.com/gpu) and hugepages cannot be overcommitted.
const overcommitAllowed = (resource: string): boolean => STANDARD_CONTAINER_RESOURCES.has(resource);

function validateResourceName(field: string, resource: string): FieldError[] {
  const msgs = isQualifiedName(resource);
  if (msgs.length > 0) return msgs.map((m) => invalid(field, resource, m));
  if (!resource.includes('/') && !STANDARD_CONTAINER_RESOURCES.has(resource) && !resource.startsWith('hugepages-')) {
    return [invalid(field, resource, 'must be a standard resource for containers')];
  }
  return [];
}

function validateResources(resources: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limits = obj(resources.limits);
  const requests = obj(resources.requests);
  for (const [section, values] of [['limits', limits], ['requests', requests]] as const) {
    for (const [resource, q] of Object.entries(values)) {
      const at = `${path}.${section}[${resource}]`;
      errs.push(...validateResourceName(at, resource), ...validateQuantity(at, q));
    }
  }
  for (const [resource, q] of Object.entries(requests)) {
    const limit = limits[resource];
    if (!isQuantity(q) || !isQuantity(limit)) continue;
    const [r, l] = [parseQuantity(q), parseQuantity(limit)];
    if (!overcommitAllowed(resource) && r !== l) {
      errs.push(invalid(`${path}.requests`, String(q), `must be equal to ${resource} limit of ${String(limit)}`));
    } else if (r > l) {
      errs.push(invalid(`${path}.requests`, String(q), `must be less than or equal to ${resource} limit of ${String(limit)}`));
    }
  }
  return errs;
}

function validateToleration(t: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const key = str(t.key);
  if (key) errs.push(...isQualifiedName(key).map((m) => invalid(`${path}.key`, key, m)));
  const operator = t.operator === undefined ? 'Equal' : t.operator;
  if (!key && operator !== 'Exists') {
    errs.push(invalid(`${path}.operator`, operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
  }
  if (!TOLERATION_OPERATORS.includes(operator as string)) errs.push(notSupported(`${path}.operator`, operator, TOLERATION_OPERATORS));
  if (operator === 'Exists' && str(t.value)) errs.push(invalid(`${path}.operator`, t.value, 'value must be empty when `operator` is \'Exists\''));
  if (t.effect && !TAINT_EFFECTS.includes(t.effect as string)) errs.push(notSupported(`${path}.effect`, t.effect, TAINT_EFFECTS));
  if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
    errs.push(invalid(`${path}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  }
  return errs;
}
