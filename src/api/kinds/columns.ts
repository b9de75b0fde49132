// Column definitions for tables. Names are title case as the server sends them; kubectl
// upper-cases them for display.
import type { KObject } from '../object.ts';
import { rfc3339 } from './format.ts';
import type { TableColumn, TableDef } from './types.ts';

export function col(name: string, type = 'string', priority = 0, description?: string): TableColumn {
  return description === undefined ? { name, type, priority } : { name, type, priority, description };
}

export const wide = (name: string, type = 'string'): TableColumn => col(name, type, 1);

export const AGE = col('Age', 'string', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** The whole table of kinds kubectl prints with a creation date instead of an age (roles, limit ranges). */
export const CREATED_AT: TableDef = {
  columns: [col('Created At', 'date', 0, 'CreationTimestamp is a timestamp representing the server time when this object was created.')],
  cells: (o: KObject) => [rfc3339(o.metadata.creationTimestamp)],
};
