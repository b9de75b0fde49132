// A set of field paths, shaped as a tree like managedFields' fieldsV1. A node stands for a
// path; `member` says the path itself is in the set (fieldsV1 writes that as `".": {}`, or as
// an empty object for a node without children). Empty nodes are never kept, so a child node
// exists only if something at or below it is a member.

import { compareElements } from './path-element.ts';
import { isPlainObject } from './json.ts';
import type { JsonObject } from './json.ts';
import { malformed } from './errors.ts';

export class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  static fromPaths(paths: Iterable<readonly string[]>): FieldSet {
    const set = new FieldSet();
    for (const path of paths) set.insert(path);
    return set;
  }

  insert(path: readonly string[]): void {
    let node: FieldSet = this;
    for (const element of path) node = node.#childOrNew(element);
    if (path.length > 0) node.member = true;
  }

  has(path: readonly string[]): boolean {
    const node = this.node(path);
    return path.length > 0 && node !== undefined && node.member;
  }

  /** The node for `path`, if anything at or below it is in the set. */
  node(path: readonly string[]): FieldSet | undefined {
    let node: FieldSet | undefined = this;
    for (const element of path) node = node?.children.get(element);
    return node;
  }

  isEmpty(): boolean {
    return !this.member && this.children.size === 0;
  }

  /** Every member path, depth first, children in serialization order. */
  paths(): string[][] {
    const out: string[][] = [];
    const walk = (node: FieldSet, prefix: string[]): void => {
      if (node.member && prefix.length > 0) out.push(prefix);
      for (const element of [...node.children.keys()].sort(compareElements)) {
        walk(node.children.get(element) as FieldSet, [...prefix, element]);
      }
    };
    walk(this, []);
    return out;
  }

  clone(): FieldSet {
    return this.union(new FieldSet());
  }

  union(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member || other.member;
    for (const element of new Set([...this.children.keys(), ...other.children.keys()])) {
      const a = this.children.get(element) ?? new FieldSet();
      const b = other.children.get(element) ?? new FieldSet();
      out.children.set(element, a.union(b));
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && other.member;
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      if (!theirs) continue;
      const both = child.intersection(theirs);
      if (!both.isEmpty()) out.children.set(element, both);
    }
    return out;
  }

  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !other.member;
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      const rest = theirs ? child.difference(theirs) : child.clone();
      if (!rest.isEmpty()) out.children.set(element, rest);
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.member !== other.member || this.children.size !== other.children.size) return false;
    for (const [element, child] of this.children) {
      const theirs = other.children.get(element);
      if (!theirs || !child.equals(theirs)) return false;
    }
    return true;
  }

  /** A copy without anything at or below the given paths. */
  withoutSubtrees(paths: readonly (readonly string[])[]): FieldSet {
    const out = this.clone();
    for (const path of paths) out.#dropSubtree(path);
    return out;
  }

  /** A copy holding only what lies at or below `path`. */
  onlySubtree(path: readonly string[]): FieldSet {
    const out = new FieldSet();
    const node = this.node(path);
    if (!node || path.length === 0) return path.length === 0 ? this.clone() : out;
    let cursor = out;
    for (const element of path.slice(0, -1)) cursor = cursor.#childOrNew(element);
    cursor.children.set(path[path.length - 1] as string, node.clone());
    return out;
  }

  /** The fieldsV1 JSON form, e.g. {"f:spec":{"f:replicas":{}}}. */
  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    for (const element of [...this.children.keys()].sort(compareElements)) {
      out[element] = (this.children.get(element) as FieldSet).toFieldsV1();
    }
    return out;
  }

  static fromFieldsV1(json: unknown): FieldSet {
    const set = parseNode(json, 'fieldsV1');
    set.member = false; // the root is never a member
    return set;
  }

  #dropSubtree(path: readonly string[]): void {
    if (path.length === 0) return;
    const [first, ...rest] = path as [string, ...string[]];
    const child = this.children.get(first);
    if (!child) return;
    if (rest.length === 0) this.children.delete(first);
    else {
      child.#dropSubtree(rest);
      if (child.isEmpty()) this.children.delete(first);
    }
  }

  #childOrNew(element: string): FieldSet {
    let child = this.children.get(element);
    if (!child) {
      child = new FieldSet();
      this.children.set(element, child);
    }
    return child;
  }
}

function parseNode(json: unknown, where: string): FieldSet {
  if (!isPlainObject(json)) throw malformed(`invalid ${where}: expected an object`);
  const node = new FieldSet();
  const entries = Object.entries(json);
  if (entries.length === 0) node.member = true;
  for (const [element, value] of entries) {
    if (element === '.') node.member = true;
    else node.children.set(element, parseNode(value, `${where}.${element}`));
  }
  return node;
}
