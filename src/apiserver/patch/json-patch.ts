// RFC 6902 JSON patch (Content-Type application/json-patch+json). Operations run in
// order on a copy; the first failure aborts the whole patch.

import { malformed, unprocessable } from './errors.ts';
import { arrayIndex, parsePointer } from './json-pointer.ts';
import { cloneJson, isPlainObject, jsonEqual } from './json.ts';

type OpName = 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
const OPS: readonly OpName[] = ['add', 'remove', 'replace', 'move', 'copy', 'test'];

interface Operation {
  op: OpName;
  path: string[];
  rawPath: string;
  from?: string[];
  rawFrom?: string;
  value?: unknown;
}

export function applyJsonPatch(doc: unknown, patch: unknown): unknown {
  const ops = parseOperations(patch);
  // A holder lets the root ("" path) be replaced like any other location.
  const holder: { root: unknown } = { root: cloneJson(doc) };
  for (const op of ops) applyOperation(holder, op);
  return holder.root;
}

function parseOperations(patch: unknown): Operation[] {
  if (!Array.isArray(patch)) throw malformed('JSON patch must be an array of operations');
  return patch.map((raw, i) => {
    if (!isPlainObject(raw)) throw malformed(`JSON patch operation ${i} must be an object`);
    const op = raw['op'];
    if (typeof op !== 'string' || !OPS.includes(op as OpName)) throw malformed(`JSON patch operation ${i}: unknown op ${JSON.stringify(op)}`);
    const rawPath = raw['path'];
    if (typeof rawPath !== 'string') throw malformed(`JSON patch operation ${i} (${op}): "path" must be a string`);
    const parsed: Operation = { op: op as OpName, path: parsePointer(rawPath), rawPath };
    if (op === 'add' || op === 'replace' || op === 'test') {
      if (!Object.hasOwn(raw, 'value')) throw malformed(`JSON patch operation ${i} (${op}): missing "value"`);
      parsed.value = raw['value'];
    }
    if (op === 'move' || op === 'copy') {
      const rawFrom = raw['from'];
      if (typeof rawFrom !== 'string') throw malformed(`JSON patch operation ${i} (${op}): "from" must be a string`);
      parsed.from = parsePointer(rawFrom);
      parsed.rawFrom = rawFrom;
    }
    return parsed;
  });
}

function applyOperation(holder: { root: unknown }, op: Operation): void {
  switch (op.op) {
    case 'add':
      add(holder, op.path, cloneJson(op.value), op.rawPath);
      return;
    case 'remove':
      remove(holder, op.path, op.rawPath);
      return;
    case 'replace':
      if (op.path.length === 0) {
        holder.root = cloneJson(op.value);
        return;
      }
      remove(holder, op.path, op.rawPath);
      add(holder, op.path, cloneJson(op.value), op.rawPath);
      return;
    case 'move': {
      const from = op.from ?? [];
      if (isProperPrefix(from, op.path)) throw unprocessable(`move: cannot move ${op.rawFrom} into its own child ${op.rawPath}`);
      const value = get(holder, from, op.rawFrom ?? '');
      remove(holder, from, op.rawFrom ?? '');
      add(holder, op.path, value, op.rawPath);
      return;
    }
    case 'copy':
      add(holder, op.path, cloneJson(get(holder, op.from ?? [], op.rawFrom ?? '')), op.rawPath);
      return;
    case 'test': {
      const actual = get(holder, op.path, op.rawPath);
      if (!jsonEqual(actual, op.value)) {
        throw unprocessable(`test failed: value at ${op.rawPath} is ${JSON.stringify(actual)}, expected ${JSON.stringify(op.value)}`);
      }
      return;
    }
  }
}

function isProperPrefix(prefix: string[], path: string[]): boolean {
  return prefix.length < path.length && prefix.every((t, i) => path[i] === t);
}

/** The container that holds the last token of `path`, which must exist. */
function parentOf(holder: { root: unknown }, path: string[], raw: string): unknown {
  return get(holder, path.slice(0, -1), raw);
}

function get(holder: { root: unknown }, path: string[], raw: string): unknown {
  let current = holder.root;
  for (const token of path) {
    if (Array.isArray(current)) {
      const index = arrayIndex(token);
      if (index === undefined || index >= current.length) throw unprocessable(`path ${raw} not found: no array index ${JSON.stringify(token)}`);
      current = current[index];
    } else if (isPlainObject(current)) {
      if (!Object.hasOwn(current, token)) throw unprocessable(`path ${raw} not found: no member ${JSON.stringify(token)}`);
      current = current[token];
    } else {
      throw unprocessable(`path ${raw} not found: ${JSON.stringify(token)} is below a non-container value`);
    }
  }
  return current;
}

function add(holder: { root: unknown }, path: string[], value: unknown, raw: string): void {
  if (path.length === 0) {
    holder.root = value;
    return;
  }
  const parent = parentOf(holder, path, raw);
  const token = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = token === '-' ? parent.length : arrayIndex(token);
    if (index === undefined || index > parent.length) throw unprocessable(`add: array index ${JSON.stringify(token)} out of range at ${raw}`);
    parent.splice(index, 0, value);
  } else if (isPlainObject(parent)) {
    parent[token] = value;
  } else {
    throw unprocessable(`add: parent of ${raw} is not an object or array`);
  }
}

function remove(holder: { root: unknown }, path: string[], raw: string): void {
  if (path.length === 0) throw unprocessable('remove: cannot remove the whole document');
  const parent = parentOf(holder, path, raw);
  const token = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = arrayIndex(token);
    if (index === undefined || index >= parent.length) throw unprocessable(`path ${raw} not found: no array index ${JSON.stringify(token)}`);
    parent.splice(index, 1);
  } else if (isPlainObject(parent)) {
    if (!Object.hasOwn(parent, token)) throw unprocessable(`path ${raw} not found: no member ${JSON.stringify(token)}`);
    delete parent[token];
  } else {
    throw unprocessable(`path ${raw} not found: parent is not an object or array`);
  }
}
