// meta.k8s.io Table responses: what gives `kubectl get` its columns.
import type { KObject } from '../api/object.ts';
import type { ResourceInfo } from '../api/scheme.ts';
import { strategyFor } from '../api/kinds/index.ts';
import type { TableColumn } from '../api/kinds/types.ts';
import { since } from '../api/kinds/format.ts';
import { badRequest } from './errors.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function parseIncludeObject(v: string | null): IncludeObject {
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw badRequest(`includeObject: Unsupported value: "${v}": supported values: "None", "Metadata", "Object"`);
}

const NAME_COLUMN: TableColumn = { name: 'Name', type: 'string', format: 'name', priority: 0, description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.' };
const AGE_COLUMN: TableColumn = { name: 'Age', type: 'string', priority: 0, description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' };

export interface TableOptions {
  version: 'v1' | 'v1beta1';
  includeObject: IncludeObject;
  /** Omit columnDefinitions (every watch event after the first). */
  noHeaders?: boolean;
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  now?: number;
}

export function toTable(r: ResourceInfo, items: KObject[], opts: TableOptions) {
  const def = strategyFor(r.group, r.kind).table;
  const now = opts.now ?? Date.now();
  const columns = def ? [NAME_COLUMN, ...def.columns] : [NAME_COLUMN, AGE_COLUMN];
  // The kind's columns read the storage version; a converted version is read through it.
  const cellsOf = (obj: KObject): unknown[] => (def ? def.cells(r.conversion ? r.conversion.toStorage(obj) : obj, now) : [since(obj.metadata.creationTimestamp, now)]);
  const rows = items.map((obj) => ({
    cells: [obj.metadata.name, ...cellsOf(obj)],
    object: rowObject(obj, opts.includeObject, opts.version),
  }));
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${opts.version}`,
    metadata: opts.listMeta ?? {},
    columnDefinitions: opts.noHeaders ? null : columns,
    rows,
  };
}

function rowObject(obj: KObject, include: IncludeObject, version: string) {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}
