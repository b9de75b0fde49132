// Response media types: JSON (plain or as a meta.k8s.io Table), YAML. Protobuf is not
// served; a client that accepts nothing else gets 406.
import { notAcceptable } from '../errors.ts';

export interface Negotiated {
  format: 'json' | 'yaml';
  /** The client asked for a Table (kubectl get). */
  table?: 'v1' | 'v1beta1';
  /** The client asked for aggregated discovery. */
  aggregatedDiscovery?: 'v2' | 'v2beta1';
}

interface AcceptEntry { type: string; params: Record<string, string>; q: number }

function parseAccept(header: string | undefined): AcceptEntry[] {
  if (!header) return [{ type: '*/*', params: {}, q: 1 }];
  return header.split(',').map((part) => {
    const [type, ...rest] = part.split(';');
    const params: Record<string, string> = {};
    for (const p of rest) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim();
    }
    return { type: type.trim().toLowerCase(), params, q: params.q ? Number(params.q) : 1 };
  }).filter((e) => e.q > 0);
}

/** Picks the first acceptable representation in the client's order of preference. */
export function negotiate(header: string | undefined, opts: { allowTable?: boolean; allowAggregated?: boolean } = {}): Negotiated {
  const entries = parseAccept(header).sort((a, b) => b.q - a.q);
  for (const e of entries) {
    const as = e.params.as;
    if (e.type === 'application/json' || e.type === '*/*' || e.type === 'application/*') {
      if (as === 'Table' && e.params.g === 'meta.k8s.io') {
        if (opts.allowTable && (e.params.v === 'v1' || e.params.v === 'v1beta1')) return { format: 'json', table: e.params.v };
        continue;
      }
      if (as === 'APIGroupDiscoveryList' && e.params.g === 'apidiscovery.k8s.io') {
        if (opts.allowAggregated && (e.params.v === 'v2' || e.params.v === 'v2beta1')) return { format: 'json', aggregatedDiscovery: e.params.v };
        continue;
      }
      if (as) continue;
      return { format: 'json' };
    }
    if (e.type === 'application/yaml' && !e.params.as) return { format: 'yaml' };
  }
  throw notAcceptable(`only the following media types are accepted: application/json, application/yaml${opts.allowTable ? ', application/json;as=Table;v=v1;g=meta.k8s.io' : ''}`);
}
