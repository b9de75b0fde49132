// The model as nftables state (named sets + the rules of one chain), and the smallest
// `nft -f` script that moves the kernel from the last applied state to the next one.
// Rules refer to sets only, and the rules depend on the policies alone, so pods coming
// and going change set elements; the chain is rewritten only when policies change.
import { createHash } from 'node:crypto';
import type { NetpolModel, PortMatch, RuleModel } from './model.ts';

export type SetType = 'ipv4_addr' | 'ipv4_addr . inet_proto . inet_service';

export interface NftSet { type: SetType; interval: boolean; elements: string[] }

export interface NftState {
  sets: Map<string, NftSet>;
  /** The rules of the `ingress` chain, in order. */
  rules: string[];
}

export interface RenderOptions {
  /** Addresses of this node that reach its pods (node IP, bridge gateway): always let in. */
  nodeIPs: string[];
}

export const tableName = (hash: string): string => `skiff-np-${hash}`;
export const FAMILY = 'inet';

/** A short, stable, nft-safe id for a policy key. */
export function policyId(key: string): string {
  return 'p' + createHash('sha256').update(key).digest('hex').slice(0, 10);
}

const proto = (p: PortMatch['protocol']): string => p.toLowerCase();

function portMatches(r: RuleModel, named: string): string[] {
  if (r.anyPort) return [''];
  const out = r.ports.map((p) => {
    if (p.port === undefined) return `meta l4proto ${proto(p.protocol)}`;
    const ports = p.endPort ? `${p.port}-${p.endPort}` : `${p.port}`;
    return `meta l4proto ${proto(p.protocol)} th dport ${ports}`;
  });
  if (r.namedPorts) out.push(`ip daddr . meta l4proto . th dport @${named}`);
  return out;
}

export function desiredState(model: NetpolModel, opts: RenderOptions): NftState {
  const sets = new Map<string, NftSet>();
  const addr = (elements: string[], interval = false): NftSet => ({ type: 'ipv4_addr', interval, elements });
  sets.set('isolated', addr(model.isolated));
  sets.set('node', addr([...new Set(opts.nodeIPs)].sort()));
  const rules = ['ct state established,related accept', 'ip saddr @node accept'];
  for (const p of model.policies) {
    const id = policyId(p.key);
    sets.set(`${id}_dst`, addr(p.targets));
    p.rules.forEach((r, j) => {
      const rid = `${id}_r${j}`;
      const sources: string[] = [];
      if (r.anySource) sources.push('');
      if (r.podPeers) { sets.set(`${rid}_pods`, addr(r.podIPs)); sources.push(`ip saddr @${rid}_pods`); }
      if (r.ranges.length) { sets.set(`${rid}_net`, addr(r.ranges, true)); sources.push(`ip saddr @${rid}_net`); }
      if (r.namedPorts) {
        sets.set(`${rid}_named`, {
          type: 'ipv4_addr . inet_proto . inet_service', interval: false,
          elements: r.named.map((n) => `${n.ip} . ${proto(n.protocol)} . ${n.port}`),
        });
      }
      for (const src of sources) {
        for (const port of portMatches(r, `${rid}_named`)) {
          rules.push([`ip daddr @${id}_dst`, src, port, 'accept'].filter(Boolean).join(' '));
        }
      }
    });
  }
  rules.push('counter drop');
  return { sets, rules };
}

function setDecl(name: string, s: NftSet): string {
  const flags = s.interval ? ' flags interval;' : '';
  const elements = s.elements.length ? ` elements = { ${s.elements.join(', ')} };` : '';
  return `set ${name} { type ${s.type};${flags}${elements} }`;
}

/** The whole table, replacing whatever is there, in one transaction. */
export function renderFull(table: string, next: NftState): string {
  const lines = [
    `table ${FAMILY} ${table} {}`,
    `delete table ${FAMILY} ${table}`,
    `table ${FAMILY} ${table} {`,
    ...[...next.sets].map(([name, s]) => `  ${setDecl(name, s)}`),
    '  chain forward {',
    // forward sees post-DNAT addresses (DNAT is at prerouting), so Service traffic is
    // checked against the real pod and port. br_netfilter brings bridged traffic here too.
    '    type filter hook forward priority filter; policy accept;',
    '    ip daddr @isolated jump ingress',
    '  }',
    '  chain ingress {',
    ...next.rules.map((r) => `    ${r}`),
    '  }',
    '}',
  ];
  return lines.join('\n') + '\n';
}

/**
 * The changes from prev to next ('' when there are none). With no prev (first sync, or
 * after a failed apply) the whole table is rewritten.
 */
export function renderUpdate(table: string, prev: NftState | undefined, next: NftState): string {
  if (!prev) return renderFull(table, next);
  const t = `${FAMILY} ${table}`;
  const rulesChanged = prev.rules.length !== next.rules.length || prev.rules.some((r, i) => r !== next.rules[i]);
  const out: string[] = [];
  if (rulesChanged) out.push(`flush chain ${t} ingress`);
  for (const [name, s] of prev.sets) {
    const n = next.sets.get(name);
    if (!n || n.type !== s.type || n.interval !== s.interval) out.push(`delete set ${t} ${name}`);
  }
  for (const [name, n] of next.sets) {
    const s = prev.sets.get(name);
    if (!s || n.type !== s.type || n.interval !== s.interval) {
      out.push(`add ${setDecl(name, n)}`.replace(/^add set /, `add set ${t} `));
      continue;
    }
    if (n.interval) {
      // Interval elements would have to be split and merged to diff; these change only
      // with the policy, so replace them whole.
      if (s.elements.join() !== n.elements.join()) {
        out.push(`flush set ${t} ${name}`);
        if (n.elements.length) out.push(`add element ${t} ${name} { ${n.elements.join(', ')} }`);
      }
      continue;
    }
    const before = new Set(s.elements);
    const after = new Set(n.elements);
    const gone = s.elements.filter((e) => !after.has(e));
    const added = n.elements.filter((e) => !before.has(e));
    if (gone.length) out.push(`delete element ${t} ${name} { ${gone.join(', ')} }`);
    if (added.length) out.push(`add element ${t} ${name} { ${added.join(', ')} }`);
  }
  if (rulesChanged) for (const r of next.rules) out.push(`add rule ${t} ingress ${r}`);
  return out.length ? out.join('\n') + '\n' : '';
}
