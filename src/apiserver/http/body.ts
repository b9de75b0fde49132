// Request bodies: size-limited reading and decoding by Content-Type.
import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { ApiError, badRequest, tooLarge, unsupportedMediaType } from '../errors.ts';
import { decodeProtobufObject, PROTOBUF_CONTENT_TYPE } from '../protobuf/index.ts';

/** Kubernetes rejects request bodies above 3 MiB. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Who else wants a request's body once it is read (the audit log, at Request level). */
export const bodyObservers = new WeakMap<IncomingMessage, (body: Buffer) => void>();

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  bodyObservers.get(req)?.(body);
  return body;
}

export type BodyFormat = 'json' | 'yaml';

/** The media type without parameters, lower case. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

export function decodeBody(buf: Buffer, contentType: string | undefined, accepted: readonly string[] = ['application/json', 'application/yaml', PROTOBUF_CONTENT_TYPE]): unknown {
  const type = mediaType(contentType) || 'application/json';
  if (!accepted.includes(type)) throw unsupportedMediaType(type);
  if (type === PROTOBUF_CONTENT_TYPE) return decodeProtobuf(buf);
  const text = buf.toString('utf8');
  if (!text.trim()) throw badRequest('the request body is empty');
  if (type.endsWith('yaml')) return parseYaml(text);
  return parseJson(text);
}

/**
 * How deeply a body may nest. Kubernetes stops at 10,000 with Go's growable stacks; our
 * validation, defaulting and patching recurse on a fixed JS stack, so the bound is lower,
 * and still far beyond any real object (CRD schemas go a few dozen levels deep).
 */
export const MAX_NESTING = 1000;

/** Refuses values nested deeper than MAX_NESTING, without recursing itself. */
export function checkNesting(value: unknown): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_NESTING) throw badRequest(`the request body is nested more than ${MAX_NESTING} levels deep`);
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
}

export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding the request body as JSON: ${(err as Error).message}`);
  }
  checkNesting(value);
  return value;
}

/**
 * How deeply YAML text nests, measured on the text before the parser sees it: the yaml
 * library recurses per level, and a regular expression compiled at the bottom of a deep
 * recursion can abort the process (not a catchable stack overflow). Brackets of flow
 * collections are counted outside quotes; block collections by their indentation.
 */
export function yamlTextDepth(text: string): number {
  let max = 0;
  let flow = 0;
  let quote = '';
  const indents: number[] = [];
  let lineStart = true;
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') { lineStart = true; col = 0; if (quote === "'" || quote === '"') continue; quote = ''; continue; }
    if (lineStart) {
      if (c === ' ' || c === '-') { col++; continue; }
      lineStart = false;
      if (c !== '#') {
        while (indents.length && indents[indents.length - 1]! >= col) indents.pop();
        indents.push(col);
      }
    }
    if (quote) {
      if (c === quote && (quote !== '"' || text[i - 1] !== '\\')) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#') quote = '\n';
    else if (c === '[' || c === '{') flow++;
    else if ((c === ']' || c === '}') && flow > 0) flow--;
    if (flow + indents.length > max) max = flow + indents.length;
  }
  return Math.max(max, indents.length);
}

export function parseYaml(text: string): unknown {
  if (yamlTextDepth(text) > MAX_NESTING) throw badRequest(`the request body is nested more than ${MAX_NESTING} levels deep`);
  try {
    const docs = YAML.parseAllDocuments(text);
    if (docs.length !== 1) throw new Error(`expected exactly one document, got ${docs.length}`);
    const doc = docs[0];
    if (doc.errors.length) throw doc.errors[0];
    const value = doc.toJS({ maxAliasCount: 100 });
    checkNesting(value);
    return value;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
  }
}

/** kubectl's typed clients (kubectl create deployment, ...) send built-in kinds as protobuf. */
function decodeProtobuf(buf: Buffer): unknown {
  try {
    return decodeProtobufObject(buf);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes('not supported')) throw new ApiError(415, 'UnsupportedMediaType', message);
    throw badRequest(`error decoding the protobuf request body: ${message}`);
  }
}
