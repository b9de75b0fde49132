// What the kernel's table holds, as rendered fragments per Service, and the `nft -f`
// script for a change: only the changed Services' chains are flushed and refilled, only
// changed elements deleted and added. Shared-map keys may be claimed by two Services
// (an external IP and port both use): the first claimant's value stands until it leaves.
// Pure (no I/O): the proxy runs the script and calls reset() when nft fails.
import { baseChains, SHARED_SETS, type Fragment, type NftChain, type RenderOptions } from './render.ts';

interface Claim { owner: string; value: string }
/** Shared set → element key → its effective value before this update. */
type Touched = Map<string, Map<string, string | undefined>>;

export class TableState {
  readonly #table: string;
  readonly #fragments = new Map<string, Fragment>();
  /** Shared set → element key → claims, the effective one first. */
  readonly #claims = new Map<string, Map<string, Claim[]>>();

  constructor(opts: Pick<RenderOptions, 'table'>) {
    this.#table = `ip ${opts.table}`;
  }

  /** Forgets everything (after a failed nft run: the next script must be full()). */
  reset(): void {
    this.#fragments.clear();
    this.#claims.clear();
  }

  /** A script that replaces whatever table of this name exists, atomically. */
  full(fragments: ReadonlyMap<string, Fragment>): string {
    this.reset();
    const t = this.#table;
    const lines = [`add table ${t}`, `delete table ${t}`, `add table ${t}`];
    for (const [name, s] of SHARED_SETS) lines.push(`add ${s.kind} ${t} ${name} { ${s.decl} }`);
    const base = baseChains();
    for (const [name, c] of base) lines.push(`add chain ${t} ${name}${c.hook ? ` { ${c.hook} }` : ''}`);
    for (const [name, c] of base) for (const r of c.rules) lines.push(`add rule ${t} ${name} ${r}`);
    // As update() from an empty table, in the same order, without its diffing (a full sync
    // of 1,000 Services spent ~0.1 CPU-s there): sets and chains, rules, then elements.
    const rules: string[] = [];
    const elements = new Map<string, string[]>();
    for (const [owner, f] of fragments) {
      for (const [name, s] of f.sets) lines.push(`add ${s.kind} ${t} ${name} { ${s.decl} }`);
      for (const [name, c] of f.chains) {
        lines.push(`add chain ${t} ${name}`);
        for (const r of c.rules) rules.push(`add rule ${t} ${name} ${r}`);
      }
      for (const [set, elems] of f.elements) {
        const kind = SHARED_SETS.get(set)!.kind;
        let claims = this.#claims.get(set);
        if (!claims) this.#claims.set(set, (claims = new Map()));
        let out = elements.get(set);
        if (!out) elements.set(set, (out = []));
        for (const [k, v] of elems) {
          const list = claims.get(k);
          if (list) { // claimed by an earlier Service: that one's value stands
            list.push({ owner, value: v });
            continue;
          }
          claims.set(k, [{ owner, value: v }]);
          out.push(kind === 'map' ? `${k} : ${v}` : k);
        }
      }
      this.#fragments.set(owner, f);
    }
    lines.push(...rules);
    for (const [set, out] of elements) if (out.length) lines.push(`add element ${t} ${set} { ${out.join(', ')} }`);
    return `${lines.join('\n')}\n`;
  }

  /**
   * The script for Services whose fragment changed (undefined: the Service is gone).
   * '' when nothing changed; undefined when an affinity set's declaration changed (its
   * timeout), which needs full().
   */
  update(changes: ReadonlyMap<string, Fragment | undefined>): string | undefined {
    const t = this.#table;
    const head: string[] = []; // new sets and empty new chains, so later lines may name them
    const rules: string[] = [];
    const goneChains: string[] = [];
    const goneSets: string[] = [];
    const touched: Touched = new Map();
    for (const [owner, next] of changes) {
      const prev = this.#fragments.get(owner);
      for (const [name, s] of next?.sets ?? []) {
        const old = prev?.sets.get(name);
        if (old && old.decl !== s.decl) return undefined;
        if (!old) head.push(`add ${s.kind} ${t} ${name} { ${s.decl} }`);
      }
      for (const [name, s] of prev?.sets ?? []) if (!next?.sets.has(name)) goneSets.push(`delete ${s.kind} ${t} ${name}`);
      for (const [name, c] of next?.chains ?? []) {
        const old = prev?.chains.get(name);
        if (!old) head.push(`add chain ${t} ${name}`);
        else if (sameRules(old, c)) continue;
        else rules.push(`flush chain ${t} ${name}`);
        for (const r of c.rules) rules.push(`add rule ${t} ${name} ${r}`);
      }
      for (const name of prev?.chains.keys() ?? []) if (!next?.chains.has(name)) goneChains.push(name);
      // Elements: withdraw this owner's old claims, then make its new ones.
      for (const [set, elems] of prev?.elements ?? []) {
        const nextElems = next?.elements.get(set);
        for (const [k, v] of elems) if (nextElems?.get(k) !== v) this.#withdraw(touched, set, k, owner);
      }
      for (const [set, elems] of next?.elements ?? []) {
        const prevElems = prev?.elements.get(set);
        for (const [k, v] of elems) if (prevElems?.get(k) !== v) this.#claim(touched, set, k, owner, v);
      }
      if (next) this.#fragments.set(owner, next);
      else this.#fragments.delete(owner);
    }
    const delElems: string[] = [];
    const addElems: string[] = [];
    for (const [set, keys] of touched) {
      const kind = SHARED_SETS.get(set)!.kind;
      const gone: string[] = [];
      const added: string[] = [];
      for (const [k, before] of keys) {
        const after = this.#claims.get(set)?.get(k)?.[0]?.value;
        if (before === after) continue;
        if (before !== undefined) gone.push(k);
        if (after !== undefined) added.push(kind === 'map' ? `${k} : ${after}` : k);
      }
      if (gone.length) delElems.push(`delete element ${t} ${set} { ${gone.join(', ')} }`);
      if (added.length) addElems.push(`add element ${t} ${set} { ${added.join(', ')} }`);
    }
    const lines = [
      ...head, ...delElems, ...rules, ...addElems,
      // Gone chains are all flushed before any is deleted (one may jump to another).
      ...goneChains.map((c) => `flush chain ${t} ${c}`), ...goneChains.map((c) => `delete chain ${t} ${c}`),
      ...goneSets,
    ];
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  /** The claims of a set, noting first the key's value before this update. */
  #touch(touched: Touched, set: string, key: string): Map<string, Claim[]> {
    let claims = this.#claims.get(set);
    if (!claims) this.#claims.set(set, (claims = new Map()));
    let t = touched.get(set);
    if (!t) touched.set(set, (t = new Map()));
    if (!t.has(key)) t.set(key, claims.get(key)?.[0]?.value);
    return claims;
  }

  #withdraw(touched: Touched, set: string, key: string, owner: string): void {
    const claims = this.#touch(touched, set, key);
    const list = claims.get(key);
    const i = list?.findIndex((c) => c.owner === owner) ?? -1;
    if (i < 0) return;
    if (list!.length === 1) claims.delete(key);
    else list!.splice(i, 1);
  }

  #claim(touched: Touched, set: string, key: string, owner: string, value: string): void {
    const claims = this.#touch(touched, set, key);
    const list = claims.get(key);
    if (!list) { claims.set(key, [{ owner, value }]); return; }
    const mine = list.find((c) => c.owner === owner);
    if (mine) mine.value = value;
    else list.push({ owner, value });
  }
}

function sameRules(a: NftChain, b: NftChain): boolean {
  return a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]);
}
