// ClusterRole aggregation (Kubernetes' clusterrole-aggregation controller): a ClusterRole
// with an aggregationRule gets, as its rules, the union of the rules of every ClusterRole
// its selectors match. Any ClusterRole change re-syncs every aggregated role, so chains
// (view → edit → admin) settle in a few rounds.
import type { KObject } from '../../api/object.ts';
import type { Informer } from '../../client/informer.ts';
import { isNotFound, type ResourceInterface } from '../../client/types.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { selectorMatches } from '../../api/validation/label-selector.ts';
import type { LabelSelector } from '../../api/validation/label-selector.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';

type Rule = Record<string, unknown>;

function selectorsOf(role: KObject): LabelSelector[] | undefined {
  const agg = role.aggregationRule as { clusterRoleSelectors?: LabelSelector[] } | undefined;
  return agg && Array.isArray(agg.clusterRoleSelectors) ? agg.clusterRoleSelectors : undefined;
}

/** The aggregated rules: matching roles sorted by name, each rule once, in order. */
export function aggregateRules(role: KObject, all: readonly KObject[]): Rule[] {
  const selectors = selectorsOf(role) ?? [];
  const sources = all
    .filter((r) => r.metadata.name !== role.metadata.name && selectors.some((s) => selectorMatches(s, r.metadata.labels)))
    .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  const seen = new Set<string>();
  const out: Rule[] = [];
  for (const src of sources) {
    for (const rule of Array.isArray(src.rules) ? src.rules as Rule[] : []) {
      const key = JSON.stringify(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(rule);
    }
  }
  return out;
}

export class ClusterRoleAggregationController implements Controller {
  readonly name = 'clusterrole-aggregation';
  #roles?: Informer;
  #api?: ResourceInterface;
  #queue?: WorkQueue;
  readonly #unsubscribe: (() => void)[] = [];

  start(ctx: ControllerContext): void {
    this.#api = ctx.api.resource('rbac.authorization.k8s.io', 'v1', 'clusterroles');
    const roles = this.#roles = ctx.informers.informer('rbac.authorization.k8s.io', 'v1', 'clusterroles');
    const queue = this.#queue = new WorkQueue((name) => this.sync(name), {
      onError: logSyncError(ctx.log, 'clusterrole aggregation failed', 'clusterrole'),
    });
    // Any change may feed an aggregated role: queue every role that aggregates.
    const all = () => { for (const r of roles.list()) if (selectorsOf(r)) queue.add(r.metadata.name!); };
    this.#unsubscribe.push(roles.addEventHandler({ onAdd: all, onUpdate: all, onDelete: all }));
  }

  stop(): void {
    for (const u of this.#unsubscribe.splice(0)) u();
    this.#queue?.stop();
  }

  get idle(): boolean {
    return this.#queue?.idle ?? true;
  }

  async sync(name: string): Promise<void> {
    const role = this.#roles!.getByName(undefined, name);
    if (!role || !selectorsOf(role)) return;
    const rules = aggregateRules(role, this.#roles!.list());
    if (JSON.stringify(rules) === JSON.stringify(role.rules ?? [])) return;
    try {
      await this.#api!.update({ ...role, rules });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
