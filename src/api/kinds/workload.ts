// What the pod-owning workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet,
// ReplicationController, Job) share: template defaults and validation, selector/template
// agreement, generation bumps, the CONTAINERS/IMAGES/SELECTOR columns and scale.
import { forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import {
  formatLabelMap, formatLabelSelector, goLabelSelector, goStringMap, invalidRendered, isEmptySelector,
  selectorMatches, validateAnnotations, validateLabels, validateLabelSelector, type LabelSelector,
} from '../validation/index.ts';
import { child, jsonEqual, num, obj, objs, str, strMap, type Json } from './access.ts';
import { wide } from './columns.ts';
import { defaultPodSpec } from './pod-spec-defaults.ts';
import { validatePodSpec } from './pod-spec-validation.ts';
import type { ScaleDef } from './types.ts';

export function defaultTemplate(spec: Json): void {
  defaultPodSpec(child(child(spec, 'template'), 'spec'));
}

/** Template metadata and pod spec; `restartPolicies` narrows what the owner allows. */
export function validateTemplate(template: unknown, path: string, restartPolicies: string[]): FieldError[] {
  if (template === undefined || template === null) return [required(path)];
  const t = obj(template);
  const meta = obj(t.metadata);
  const spec = obj(t.spec);
  const errs = [
    ...validateLabels(`${path}.metadata.labels`, meta.labels),
    ...validateAnnotations(`${path}.metadata.annotations`, meta.annotations),
    ...validatePodSpec(spec, `${path}.spec`),
  ];
  if (spec.restartPolicy && !restartPolicies.includes(spec.restartPolicy as string)) {
    errs.push(notSupported(`${path}.spec.restartPolicy`, spec.restartPolicy, restartPolicies));
  }
  return errs;
}

/** Long-running owners may not give their pods a deadline. */
export function forbidDeadline(template: unknown, path: string, owner: string): FieldError[] {
  const spec = obj(obj(template).spec);
  return spec.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds === null
    ? [] : [forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${owner} is not Supported`)];
}

const mismatch = (path: string, labels: Record<string, string> | undefined): FieldError =>
  invalidRendered(`${path}.metadata.labels`, goStringMap(labels), '`selector` does not match template `labels`');

/**
 * An apps/v1-style selector: required, non-empty, valid, and matching the template's labels.
 * A missing selector also reports the mismatch, as Kubernetes does (nil selects nothing).
 */
export function validateSelectorForTemplate(spec: Json, kindWord: string): FieldError[] {
  const labels = obj(obj(spec.template).metadata).labels as Record<string, string> | undefined;
  if (spec.selector === undefined || spec.selector === null) return [required('spec.selector'), mismatch('spec.template', labels)];
  const selector = obj(spec.selector) as LabelSelector;
  const errs = validateLabelSelector('spec.selector', spec.selector);
  if (isEmptySelector(selector)) {
    errs.push(invalidRendered('spec.selector', goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  } else if (errs.length === 0 && !selectorMatches(selector, labels)) {
    errs.push(mismatch('spec.template', labels));
  }
  return errs;
}

/** ReplicationController's map selector: required, and a subset of the template's labels. */
export function validateMapSelectorForTemplate(spec: Json): FieldError[] {
  const selector = strMap(spec.selector);
  const labels = obj(obj(spec.template).metadata).labels as Record<string, string> | undefined;
  if (Object.keys(selector).length === 0) return [required('spec.selector')];
  const errs = validateLabels('spec.selector', selector);
  if (spec.template && !selectorMatches({ matchLabels: selector }, labels)) errs.push(mismatch('spec.template', labels));
  return errs;
}

export function validateSelectorImmutable(obj1: KObject, old: KObject): FieldError[] {
  const sel = obj(obj1.spec).selector;
  const oldSel = obj(old.spec).selector;
  return jsonEqual(sel, oldSel) ? [] : [invalidRendered('spec.selector', goLabelSelector(sel as LabelSelector), 'field is immutable')];
}

export function validateReplicas(spec: Json): FieldError[] {
  const r = spec.replicas;
  if (r === undefined || r === null) return [];
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 ? [] : [invalid('spec.replicas', r, 'must be greater than or equal to 0')];
}

/** Status starts empty and generation at 1; later, only spec changes bump generation. */
export function prepareGenerationOnCreate(o: KObject): void {
  o.status = {};
  o.metadata.generation = 1;
}

/** For kinds without a status (NetworkPolicy). */
export function setInitialGeneration(o: KObject): void {
  o.metadata.generation = 1;
}

export function prepareGenerationOnUpdate(o: KObject, old: KObject): void {
  const oldGeneration = old.metadata.generation ?? 1;
  o.metadata.generation = jsonEqual(o.spec, old.spec) ? oldGeneration : oldGeneration + 1;
}

export const TEMPLATE_WIDE_COLUMNS = [wide('Containers'), wide('Images'), wide('Selector')];

/** CONTAINERS, IMAGES and SELECTOR cells from spec.template and spec.selector. */
export function templateWideCells(spec: Json, selector: string): string[] {
  const containers = objs(obj(obj(spec.template).spec).containers);
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(','), selector || '<none>'];
}

export const selectorString = (spec: Json): string => formatLabelSelector(obj(spec.selector) as LabelSelector);
export const mapSelectorString = (spec: Json): string => formatLabelMap(strMap(spec.selector));

/** spec.replicas (default 1) ↔ status.replicas, with the selector as a string. */
export function replicasScale(selectorOf: (spec: Json) => string): ScaleDef {
  return {
    specReplicas: (o) => (typeof obj(o.spec).replicas === 'number' ? num(obj(o.spec).replicas) : 1),
    setSpecReplicas: (o, n) => { child(o, 'spec').replicas = n; },
    statusReplicas: (o) => num(obj(o.status).replicas),
    selector: (o) => selectorOf(obj(o.spec)),
  };
}
