// Events, core/v1 and events.k8s.io/v1: one view over both shapes gives the same
// `kubectl get events` table and field selectors; validation follows each group's rules.
import { invalid, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { num, obj, str, type Json } from './access.ts';
import { col, wide } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

interface EventView {
  regarding: Json;
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  eventTime: string;
  series: Json | undefined;
  sourceComponent: string;
  sourceHost: string;
  reportingController: string;
  reportingInstance: string;
}

/** Reads either shape: events.k8s.io names first, core names as the fallback. */
export function eventView(e: KObject): EventView {
  const source = obj(e.deprecatedSource ?? e.source);
  return {
    regarding: obj(e.regarding ?? e.involvedObject),
    reason: str(e.reason),
    message: str(e.note ?? e.message),
    type: str(e.type),
    count: num(e.deprecatedCount ?? e.count),
    firstTimestamp: str(e.deprecatedFirstTimestamp ?? e.firstTimestamp),
    lastTimestamp: str(e.deprecatedLastTimestamp ?? e.lastTimestamp),
    eventTime: str(e.eventTime),
    series: e.series === undefined || e.series === null ? undefined : obj(e.series),
    sourceComponent: str(source.component),
    sourceHost: str(source.host),
    reportingController: str(e.reportingController ?? e.reportingComponent),
    reportingInstance: str(e.reportingInstance),
  };
}

function eventCells(e: KObject, now: number): unknown[] {
  const v = eventView(e);
  const first = since(v.firstTimestamp || v.eventTime, now);
  let last = v.lastTimestamp ? since(v.lastTimestamp, now) : first;
  let count = v.count;
  if (v.series) {
    last = since(str(v.series.lastObservedTime), now);
    count = num(v.series.count);
  } else if (count === 0) {
    count = 1; // singleton events of the new API carry no count
  }
  const kind = str(v.regarding.kind).toLowerCase();
  const target = str(v.regarding.name) ? `${kind}/${str(v.regarding.name)}` : kind;
  const component = v.sourceComponent || v.reportingController;
  const instance = v.sourceHost || v.reportingInstance;
  const source = instance ? `${component}, ${instance}` : component;
  return [last, v.type, v.reason, target, str(v.regarding.fieldPath), source, v.message.trim(), first, count];
}

// kubectl's event table ends with a wide NAME column; the server puts NAME first for every
// table, so it is left out here.
const EVENT_TABLE = {
  columns: [
    col('Last Seen', 'string', 0, 'Time when last this event was observed.'),
    col('Type', 'string', 0, 'Type of this event (Normal, Warning), new types could be added in the future.'),
    col('Reason', 'string', 0, 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
    col('Object', 'string', 0, 'The object this Event is about.'),
    wide('Subobject'),
    wide('Source'),
    col('Message', 'string', 0, 'A human-readable description of the status of this operation.'),
    wide('First Seen'),
    wide('Count', 'integer'),
  ],
  cells: eventCells,
};

const regardingField = (key: string) => (e: KObject): string => str(eventView(e).regarding[key]);

const SELECTABLE_REGARDING = ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'];

function selectable(prefix: 'involvedObject' | 'regarding'): Record<string, (e: KObject) => string> {
  const fields: Record<string, (e: KObject) => string> = {};
  for (const key of SELECTABLE_REGARDING) fields[`${prefix}.${key}`] = regardingField(key);
  fields.reason = (e) => eventView(e).reason;
  fields.type = (e) => eventView(e).type;
  if (prefix === 'involvedObject') {
    fields.source = (e) => eventView(e).sourceComponent;
    fields.reportingComponent = (e) => eventView(e).reportingController;
  } else {
    fields.deprecatedSource = (e) => eventView(e).sourceComponent;
    fields.reportingController = (e) => eventView(e).reportingController;
  }
  return fields;
}

// A core event about a namespaced object must live in that object's namespace.
function validateCoreEvent(e: KObject): FieldError[] {
  const ns = str(obj(e.involvedObject).namespace);
  if (ns && e.metadata.namespace && ns !== e.metadata.namespace) {
    return [invalid('involvedObject.namespace', ns, 'does not match event.namespace')];
  }
  return [];
}

// events.k8s.io requires the fields the new API made mandatory.
function validateNewEvent(e: KObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['eventTime', 'reportingController', 'reportingInstance', 'action', 'reason']) {
    if (!str(e[f])) errs.push(required(f));
  }
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(invalid('type', str(e.type), `has invalid value: ${str(e.type)}`));
  if (Buffer.byteLength(str(e.note)) > 1024) errs.push(invalid('note', '', 'can have at most 1024 characters'));
  const ns = str(obj(e.regarding).namespace);
  if (ns && e.metadata.namespace && ns !== e.metadata.namespace) errs.push(invalid('regarding.namespace', ns, 'does not match event.namespace'));
  return errs;
}

export const coreEventKind: KindDefinition = {
  validate: validateCoreEvent,
  table: EVENT_TABLE,
  selectableFields: selectable('involvedObject'),
};

export const eventsEventKind: KindDefinition = {
  validate: validateNewEvent,
  table: EVENT_TABLE,
  selectableFields: selectable('regarding'),
};
