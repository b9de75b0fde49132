// What a kind may add to the generic registry behaviour. Every hook is optional; the
// registry (src/apiserver/registry) calls them in this order on writes:
//   create: defaults → prepareForCreate → validate
//   update: defaults → prepareForUpdate → validate → validateUpdate
import type { KObject } from '../object.ts';
import type { FieldError } from '../field-error.ts';

export interface TableColumn {
  name: string;
  /** OpenAPI type: string, integer, number, boolean, date */
  type: string;
  format?: string;
  description?: string;
  /** 0 = always shown, 1 = only with -o wide */
  priority: number;
}

export interface TableDef {
  /** Columns after Name (Name is added by the server). */
  columns: TableColumn[];
  /** Cells for the columns above, in order. `now` in ms since epoch. */
  cells(obj: KObject, now: number): unknown[];
}

export interface ScaleDef {
  /** Reads desired replicas from the object (spec.replicas, default 1). */
  specReplicas(obj: KObject): number;
  setSpecReplicas(obj: KObject, n: number): void;
  statusReplicas(obj: KObject): number;
  /** Label selector string for the Scale's status.selector. */
  selector(obj: KObject): string;
}

export interface KindStrategy {
  /** Fill in defaults, in place, the way Kubernetes' defaulters do. Runs on create and update. */
  defaults?(obj: KObject): void;
  /** Create-time preparation, e.g. clear status users may not set (Pod: phase Pending). */
  prepareForCreate?(obj: KObject): void;
  /** Update-time preparation with the stored object at hand. */
  prepareForUpdate?(obj: KObject, old: KObject): void;
  /** Validation of the whole object; an empty array means valid. */
  validate?(obj: KObject): FieldError[];
  /** Extra checks that compare with the stored object (immutable fields...). */
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
  /** Columns for `kubectl get`; without it the server prints NAME and AGE. */
  table?: TableDef;
  /** fieldSelector fields beyond metadata.name and metadata.namespace (which are always there). */
  selectableFields?: Record<string, (obj: KObject) => string | undefined>;
  /** For kinds with a /scale subresource. */
  scale?: ScaleDef;
}
