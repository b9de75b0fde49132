// metadata.managedFields in and out: decoding entries into field sets, naming managers
// the way Kubernetes tells them apart, and writing entries back in Kubernetes' order.

import type { ManagedFieldsEntry } from '../../api/object.ts';
import { FieldSet } from './field-set.ts';
import { fieldElement } from './path-element.ts';

export interface Manager {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  subresource?: string;
  fields: FieldSet;
}

export function decodeManagedFields(entries: readonly ManagedFieldsEntry[] | undefined): Manager[] {
  return (entries ?? [])
    .filter((e) => typeof e.manager === 'string' || e.fieldsV1 !== undefined)
    .map((e) => {
      const m: Manager = {
        manager: e.manager ?? '',
        operation: e.operation === 'Apply' ? 'Apply' : 'Update',
        fields: e.fieldsV1 ? FieldSet.fromFieldsV1(e.fieldsV1) : new FieldSet(),
      };
      if (e.apiVersion !== undefined) m.apiVersion = e.apiVersion;
      if (e.time !== undefined) m.time = e.time;
      if (e.subresource) m.subresource = e.subresource;
      return m;
    });
}

/** Entries with no fields are dropped; the rest are sorted as Kubernetes sorts them. */
export function encodeManagedFields(managers: readonly Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => !m.fields.isEmpty())
    .sort(compareManagers)
    .map((m) => {
      const entry: ManagedFieldsEntry = { manager: m.manager, operation: m.operation };
      if (m.apiVersion !== undefined) entry.apiVersion = m.apiVersion;
      if (m.time !== undefined) entry.time = m.time;
      entry.fieldsType = 'FieldsV1';
      entry.fieldsV1 = m.fields.toFieldsV1();
      if (m.subresource) entry.subresource = m.subresource;
      return entry;
    });
}

/** Kubernetes' order of entries; works on decoded managers and on entries alike. */
export function compareManagers(a: Omit<Manager, 'fields'>, b: Omit<Manager, 'fields'>): number {
  const seconds = (m: Omit<Manager, 'fields'>): number => (m.time ? Math.floor(Date.parse(m.time) / 1000) || 0 : 0);
  return (
    cmp(a.operation, b.operation) ||
    seconds(a) - seconds(b) ||
    cmp(a.manager, b.manager) ||
    cmp(a.apiVersion ?? '', b.apiVersion ?? '') ||
    cmp(a.subresource ?? '', b.subresource ?? '')
  );
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Whether two entries are the same manager. Appliers are one manager whatever apiVersion
 * they use; updaters are told apart by apiVersion too (as Kubernetes does).
 */
export function sameManager(a: Omit<Manager, 'fields'>, b: Omit<Manager, 'fields'>): boolean {
  if (a.manager !== b.manager || a.operation !== b.operation || (a.subresource ?? '') !== (b.subresource ?? '')) return false;
  return a.operation === 'Apply' || (a.apiVersion ?? '') === (b.apiVersion ?? '');
}

/** RFC 3339 at second precision, as managedFields times are written: 2026-11-23T10:00:00Z. */
export function toSecondPrecision(time: string): string {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return time;
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// Fields no manager owns: identity and bookkeeping the server sets itself.
const IGNORED_PATHS: string[][] = [
  [fieldElement('apiVersion')],
  [fieldElement('kind')],
  ...['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink'].map((f) => [
    fieldElement('metadata'),
    fieldElement(f),
  ]),
];
const STATUS = [fieldElement('status')];

/**
 * The part of a field set that a request to this (sub)resource can own: through the main
 * resource everything but status; through /status only status.
 */
export function ownableFields(set: FieldSet, subresource: string | undefined): FieldSet {
  if (subresource === 'status') return set.onlySubtree(STATUS);
  return set.withoutSubtrees([...IGNORED_PATHS, STATUS]);
}
