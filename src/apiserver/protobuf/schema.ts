// Parses the compact field notation of messages.ts into lookup tables, once per type.
import { MESSAGES } from './messages.ts';

export type Scalar = 's' | 'i' | 'b' | 'y';

export interface FieldSpec {
  json: string;
  /** Scalar code or a message type name. */
  type: Scalar | string;
  repeated: boolean;
  map: boolean;
  /** Embedded Go struct: its fields are merged into the parent JSON object. */
  inline: boolean;
  /** Keep zero values (Go pointer or no omitempty); otherwise they are dropped. */
  keepZero: boolean;
}

export type MessageSpec = Map<number, FieldSpec>;

const SCALARS = new Set(['s', 'i', 'b', 'y']);

export function isScalar(type: string): type is Scalar {
  return SCALARS.has(type);
}

function parseField(entry: string, owner: string): [number, FieldSpec] {
  const m = /^(\w+)=(\d+):(\*|\^)?(\{)?(\w+)\}?(!)?$/.exec(entry);
  if (!m) throw new Error(`protobuf table: bad entry "${entry}" in ${owner}`);
  const [, json, num, prefix, brace, type, bang] = m;
  return [
    Number(num),
    {
      json: json!,
      type: type!,
      repeated: prefix === '*',
      inline: prefix === '^',
      map: brace === '{',
      keepZero: bang === '!',
    },
  ];
}

const cache = new Map<string, MessageSpec>();

/** The field table of a message type, or undefined when we have none. */
export function messageSpec(type: string): MessageSpec | undefined {
  let spec = cache.get(type);
  if (spec) return spec;
  const text = MESSAGES[type];
  if (text === undefined) return undefined;
  spec = new Map(text.split(' ').filter(Boolean).map((e) => parseField(e, type)));
  cache.set(type, spec);
  return spec;
}
