// MutatingWebhookConfiguration and ValidatingWebhookConfiguration
// (admissionregistration.k8s.io/v1): the defaults and checks kube-apiserver applies, so a
// configuration the webhook dispatcher reads (src/apiserver/admission/webhook) is always
// well formed: names unique and fully qualified, exactly one of url (https) or service,
// rules over known operations and scopes, sideEffects None/NoneOnDryRun, timeouts 1-30 s.
import { duplicate, forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, validateLabelSelector } from '../validation/index.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

type Json = Record<string, unknown>;
const asObj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const FAILURE_POLICIES = ['Fail', 'Ignore'];
const MATCH_POLICIES = ['Equivalent', 'Exact'];
const SIDE_EFFECTS = ['None', 'NoneOnDryRun'];
const REINVOCATION = ['IfNeeded', 'Never'];
/** AdmissionReview versions this server can send. */
export const REVIEW_VERSIONS = ['v1', 'v1beta1'];

function defaultWebhooks(cfg: KObject, mutating: boolean): void {
  for (const w of asList(cfg.webhooks)) {
    if (!w || typeof w !== 'object') continue;
    const hook = w as Json;
    hook.failurePolicy ??= 'Fail';
    hook.matchPolicy ??= 'Equivalent';
    hook.namespaceSelector ??= {};
    hook.objectSelector ??= {};
    hook.timeoutSeconds ??= 10;
    if (mutating) hook.reinvocationPolicy ??= 'Never';
    for (const r of asList(hook.rules)) if (r && typeof r === 'object') (r as Json).scope ??= '*';
    const svc = asObj(asObj(hook.clientConfig).service);
    if (asObj(hook.clientConfig).service && typeof svc === 'object') svc.port ??= 443;
  }
}

/** Lists where "*" must stand alone ("operations", "apiGroups", "apiVersions"). */
function starAlone(field: string, items: unknown[], what: string): FieldError[] {
  return items.includes('*') && items.length > 1 ? [invalid(field, items, `if '*' is present, must not specify other ${what}`)] : [];
}

function validateRule(f: string, rule: Json): FieldError[] {
  const errs: FieldError[] = [];
  const ops = asList(rule.operations);
  if (!ops.length) errs.push(required(`${f}.operations`));
  errs.push(...starAlone(`${f}.operations`, ops, 'operations'));
  ops.forEach((op, i) => { if (!OPERATIONS.includes(op as string)) errs.push(notSupported(`${f}.operations[${i}]`, op, OPERATIONS)); });
  const groups = asList(rule.apiGroups);
  if (!groups.length) errs.push(required(`${f}.apiGroups`));
  errs.push(...starAlone(`${f}.apiGroups`, groups, 'apiGroups'));
  const versions = asList(rule.apiVersions);
  if (!versions.length) errs.push(required(`${f}.apiVersions`));
  errs.push(...starAlone(`${f}.apiVersions`, versions, 'apiVersions'));
  versions.forEach((v, i) => { if (v === '') errs.push(required(`${f}.apiVersions[${i}]`)); });
  const resources = asList(rule.resources);
  if (!resources.length) errs.push(required(`${f}.resources`));
  const seen = new Set<string>();
  resources.forEach((res, i) => {
    const rf = `${f}.resources[${i}]`;
    if (typeof res !== 'string' || res === '') { errs.push(required(rf)); return; }
    if (seen.has(res)) errs.push(duplicate(rf, res));
    seen.add(res);
    const parts = res.split('/');
    if (parts.length > 2 || parts.some((p) => p === '')) errs.push(invalid(rf, res, 'must be of the form <resource>, <resource>/<subresource>, */<subresource> or <resource>/*'));
  });
  if (seen.has('*/*') && seen.size > 1) errs.push(invalid(`${f}.resources`, resources, "if '*/*' is present, must not specify other resources"));
  if (seen.has('*') && [...seen].some((r) => r !== '*' && !r.includes('/'))) errs.push(invalid(`${f}.resources`, resources, "if '*' is present, must not specify other resources without subresources"));
  if (rule.scope !== undefined && !SCOPES.includes(rule.scope as string)) errs.push(notSupported(`${f}.scope`, rule.scope, SCOPES));
  return errs;
}

function validateClientConfig(f: string, cc: Json): FieldError[] {
  const errs: FieldError[] = [];
  const hasUrl = cc.url !== undefined && cc.url !== null;
  const hasSvc = cc.service !== undefined && cc.service !== null;
  if (hasUrl === hasSvc) return [required(f, 'exactly one of url or service is required')];
  if (hasUrl) {
    const raw = String(cc.url);
    let u: URL | undefined;
    try { u = new URL(raw); } catch { errs.push(invalid(`${f}.url`, raw, 'host must be specified')); }
    if (u) {
      if (u.protocol !== 'https:') errs.push(invalid(`${f}.url`, raw, "'https' is the only allowed URL scheme"));
      if (!u.hostname) errs.push(invalid(`${f}.url`, raw, 'host must be specified'));
      if (u.username || u.password) errs.push(invalid(`${f}.url`, raw, 'user information is not permitted in the URL'));
      if (raw.includes('#')) errs.push(invalid(`${f}.url`, raw, 'fragments are not permitted in the URL'));
      if (raw.includes('?')) errs.push(invalid(`${f}.url`, raw, 'query parameters are not permitted in the URL'));
    }
  } else {
    const svc = asObj(cc.service);
    const sf = `${f}.service`;
    if (!svc.name) errs.push(required(`${sf}.name`, 'service name is required'));
    else errs.push(...isDNS1035Label(String(svc.name)).map((m) => invalid(`${sf}.name`, svc.name, m)));
    if (!svc.namespace) errs.push(required(`${sf}.namespace`, 'service namespace is required'));
    else errs.push(...isDNS1123Label(String(svc.namespace)).map((m) => invalid(`${sf}.namespace`, svc.namespace, m)));
    if (svc.path !== undefined && svc.path !== null) {
      const p = String(svc.path);
      if (!p.startsWith('/')) errs.push(invalid(`${sf}.path`, p, "must start with a '/'"));
    }
    const port = svc.port;
    if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) {
      errs.push(invalid(`${sf}.port`, port, 'port is not valid: must be between 1 and 65535, inclusive'));
    }
  }
  if (cc.caBundle !== undefined && cc.caBundle !== null && (typeof cc.caBundle !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(cc.caBundle))) {
    errs.push(invalid(`${f}.caBundle`, '<binary>', 'must be base64-encoded PEM data'));
  }
  return errs;
}

function validateWebhook(f: string, hook: Json, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = hook.name;
  if (typeof name !== 'string' || !name) errs.push(required(`${f}.name`));
  else {
    errs.push(...isDNS1123Subdomain(name.toLowerCase()).map((m) => invalid(`${f}.name`, name, m)));
    if (name.split('.').length < 3) errs.push(invalid(`${f}.name`, name, 'should be a domain with at least three segments separated by dots'));
  }
  asList(hook.rules).forEach((r, i) => errs.push(...validateRule(`${f}.rules[${i}]`, asObj(r))));
  if (hook.failurePolicy !== undefined && !FAILURE_POLICIES.includes(hook.failurePolicy as string)) errs.push(notSupported(`${f}.failurePolicy`, hook.failurePolicy, FAILURE_POLICIES));
  if (hook.matchPolicy !== undefined && !MATCH_POLICIES.includes(hook.matchPolicy as string)) errs.push(notSupported(`${f}.matchPolicy`, hook.matchPolicy, MATCH_POLICIES));
  if (hook.sideEffects === undefined || hook.sideEffects === null || hook.sideEffects === '') errs.push(required(`${f}.sideEffects`, `must specify one of ${SIDE_EFFECTS.join(', ')}`));
  else if (!SIDE_EFFECTS.includes(hook.sideEffects as string)) errs.push(notSupported(`${f}.sideEffects`, hook.sideEffects, SIDE_EFFECTS));
  const t = hook.timeoutSeconds;
  if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 30)) {
    errs.push(invalid(`${f}.timeoutSeconds`, t, 'the timeout value must be between 1 and 30 seconds'));
  }
  const versions = asList(hook.admissionReviewVersions);
  if (!versions.length) errs.push(required(`${f}.admissionReviewVersions`, `must specify one of ${REVIEW_VERSIONS.join(', ')}`));
  else {
    const seen = new Set<unknown>();
    versions.forEach((v, i) => {
      if (seen.has(v)) errs.push(duplicate(`${f}.admissionReviewVersions[${i}]`, v));
      seen.add(v);
      errs.push(...isDNS1035Label(String(v)).map((m) => invalid(`${f}.admissionReviewVersions[${i}]`, v, m)));
    });
    if (!versions.some((v) => REVIEW_VERSIONS.includes(v as string))) {
      errs.push(invalid(`${f}.admissionReviewVersions`, versions, `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
    }
  }
  errs.push(...validateLabelSelector(`${f}.namespaceSelector`, hook.namespaceSelector));
  errs.push(...validateLabelSelector(`${f}.objectSelector`, hook.objectSelector));
  if (hook.clientConfig === undefined || hook.clientConfig === null) errs.push(required(`${f}.clientConfig`));
  else errs.push(...validateClientConfig(`${f}.clientConfig`, asObj(hook.clientConfig)));
  // CEL is not evaluated here: a condition that could not be honoured is refused rather than ignored.
  if (asList(hook.matchConditions).length) errs.push(forbidden(`${f}.matchConditions`, 'matchConditions are not supported by this server'));
  if (mutating && hook.reinvocationPolicy !== undefined && !REINVOCATION.includes(hook.reinvocationPolicy as string)) {
    errs.push(notSupported(`${f}.reinvocationPolicy`, hook.reinvocationPolicy, REINVOCATION));
  }
  return errs;
}

function validateConfiguration(cfg: KObject, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (cfg.webhooks !== undefined && cfg.webhooks !== null && !Array.isArray(cfg.webhooks)) return [invalid('webhooks', cfg.webhooks, 'must be a list')];
  const names = new Set<string>();
  asList(cfg.webhooks).forEach((w, i) => {
    const hook = asObj(w);
    errs.push(...validateWebhook(`webhooks[${i}]`, hook, mutating));
    if (typeof hook.name === 'string' && hook.name) {
      if (names.has(hook.name)) errs.push(duplicate(`webhooks[${i}].name`, hook.name));
      names.add(hook.name);
    }
  });
  return errs;
}

function definition(mutating: boolean): KindDefinition {
  return {
    defaults: (cfg) => defaultWebhooks(cfg, mutating),
    validate: (cfg) => validateConfiguration(cfg, mutating),
    table: {
      columns: [col('Webhooks', 'integer', 0, 'Webhooks indicates the number of webhooks registered in this configuration'), AGE],
      cells: (cfg, now) => [asList(cfg.webhooks).length, since(cfg.metadata.creationTimestamp, now)],
    },
  };
}

export const mutatingWebhookConfigurationKind = definition(true);
export const validatingWebhookConfigurationKind = definition(false);
