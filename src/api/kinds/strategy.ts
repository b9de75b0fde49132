// Turns a kind's own behaviour (a KindDefinition) into the KindStrategy the registry
// calls, adding the metadata checks every kind gets so kind files only say what is theirs.
import type { FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { nameIsDNSSubdomain, validateObjectMeta, validateObjectMetaUpdate, type NameValidator } from '../validation/index.ts';
import type { KindStrategy } from './types.ts';

export interface KindDefinition extends Omit<KindStrategy, 'validate' | 'validateUpdate'> {
  /** How metadata.name is checked; DNS-1123 subdomain unless the kind says otherwise. */
  nameValidator?: NameValidator;
  /** Checks beyond metadata (which is always validated). */
  validate?(obj: KObject): FieldError[];
  /** Update checks beyond metadata identity. */
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
}

/** `namespaced` undefined means the kind is unknown to the scheme: namespace is then optional. */
export function defineStrategy(def: KindDefinition, namespaced: boolean | undefined): KindStrategy {
  const nameValidator = def.nameValidator ?? nameIsDNSSubdomain;
  const { nameValidator: _unused, validate, validateUpdate, ...hooks } = def;
  return {
    ...hooks,
    validate(obj) {
      return [...validateObjectMeta(obj.metadata, namespaced, nameValidator), ...(validate?.(obj) ?? [])];
    },
    validateUpdate(obj, old) {
      return [...validateObjectMetaUpdate(obj.metadata ?? {}, old.metadata ?? {}), ...(validateUpdate?.(obj, old) ?? [])];
    },
  };
}
