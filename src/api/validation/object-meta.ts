// metadata checks every kind shares: name/generateName, namespace, labels, annotations,
// owner references and finalizers on write; identity fields on update.
import { forbidden, invalid, required, type FieldError } from '../field-error.ts';
import type { ObjectMeta } from '../object.ts';
import { validateAnnotations, validateLabels } from './labels.ts';
import { isQualifiedName, nameIsDNSLabel, type NameValidator } from './names.ts';
import { validateNonNegative } from './numbers.ts';
import { goStringSlice } from './go-format.ts';

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/**
 * `namespaced`: true requires metadata.namespace, false forbids it, undefined (a kind we
 * know nothing about) only checks it is a valid name when present.
 * A missing name is accepted when generateName is set: the registry fills the name in.
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  namespaced: boolean | undefined,
  nameValidator: NameValidator,
  path = 'metadata',
): FieldError[] {
  if (!meta || typeof meta !== 'object') return [required(path)];
  const errs: FieldError[] = [];
  const { name, generateName, namespace } = meta;
  if (generateName) {
    errs.push(...nameValidator(generateName, true).map((msg) => invalid(`${path}.generateName`, generateName, msg)));
  }
  if (!name) {
    if (!generateName) errs.push(required(`${path}.name`, 'name or generateName is required'));
  } else {
    errs.push(...nameValidator(name, false).map((msg) => invalid(`${path}.name`, name, msg)));
  }
  if (namespaced === true && !namespace) {
    errs.push(required(`${path}.namespace`));
  } else if (namespaced === false && namespace) {
    errs.push(forbidden(`${path}.namespace`, 'not allowed on this type'));
  } else if (namespace) {
    errs.push(...nameIsDNSLabel(namespace, false).map((msg) => invalid(`${path}.namespace`, namespace, msg)));
  }
  errs.push(...validateNonNegative(`${path}.generation`, meta.generation));
  errs.push(...validateLabels(`${path}.labels`, meta.labels));
  errs.push(...validateAnnotations(`${path}.annotations`, meta.annotations));
  errs.push(...validateOwnerReferences(`${path}.ownerReferences`, meta.ownerReferences));
  errs.push(...validateFinalizers(`${path}.finalizers`, meta.finalizers));
  return errs;
}

function validateOwnerReferences(field: string, refs: ObjectMeta['ownerReferences']): FieldError[] {
  if (!Array.isArray(refs)) return [];
  const errs: FieldError[] = [];
  // Kubernetes reports these without an index.
  for (const ref of refs) {
    if (!ref.apiVersion) errs.push(invalid(`${field}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errs.push(invalid(`${field}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) errs.push(invalid(`${field}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) errs.push(invalid(`${field}.uid`, ref.uid ?? '', 'uid must not be empty'));
  }
  const controllers = refs.filter((r) => r.controller === true);
  if (controllers.length > 1) {
    errs.push({
      type: 'FieldValueInvalid',
      field,
      message: `Invalid value: ${JSON.stringify(refs)}: Only one reference can have Controller set to true. Found "true" in references for ${controllers.map((c) => `${c.kind}/${c.name}`).join(' and ')}`,
    });
  }
  return errs;
}

function validateFinalizers(field: string, finalizers: unknown): FieldError[] {
  if (!Array.isArray(finalizers)) return [];
  const errs: FieldError[] = [];
  finalizers.forEach((f, i) => {
    const name = String(f);
    const msgs = isQualifiedName(name);
    errs.push(...msgs.map((msg) => invalid(`${field}[${i}]`, name, msg)));
    if (msgs.length === 0 && !name.includes('/') && !STANDARD_FINALIZERS.has(name)) {
      errs.push(invalid(`${field}[${i}]`, name, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

/** Identity fields may not change; finalizers may not be added once deletion started. */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  const immutable: (keyof ObjectMeta)[] = ['name', 'namespace', 'uid', 'creationTimestamp'];
  for (const key of immutable) {
    // An omitted identity field is filled in from the stored object by the registry.
    if (meta[key] !== undefined && old[key] !== undefined && meta[key] !== old[key]) {
      errs.push(invalid(`${path}.${String(key)}`, meta[key], 'field is immutable'));
    }
  }
  if (old.deletionTimestamp) {
    const before = new Set(old.finalizers ?? []);
    const added = (meta.finalizers ?? []).filter((f) => !before.has(f));
    if (added.length > 0) {
      errs.push(forbidden(`${path}.finalizers`, `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added)}`));
    }
  }
  return errs;
}
