// Generates src/api/openapi/generated/definitions.json from the models in
// @kubernetes/client-node: every definition reachable from the kinds the server serves
// (src/api/scheme.ts RESOURCES), their lists, and the few kinds subresources and
// deletes use. Run with `npm run gen:openapi`. Patch metadata is not written here; it
// is merged at load time from src/api/openapi/patch-metadata.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESOURCES, groupVersions } from '../src/api/scheme.ts';
import { clientNodeSpecVersion, readClientNodeModels } from '../src/api/openapi/gen/client-node-models.ts';
import { assignDefinitionNames, classForKind } from '../src/api/openapi/gen/definition-names.ts';
import { builtinDefinitions, modelToSchema } from '../src/api/openapi/gen/to-schema.ts';
import type { JsonSchema } from '../src/api/openapi/gen/to-schema.ts';

type Gvk = { group: string; version: string; kind: string };

/** Kinds that are not resources of their own but travel through the API. */
const EXTRA_KINDS: Gvk[] = [
  { group: '', version: 'v1', kind: 'Binding' },
  { group: 'autoscaling', version: 'v1', kind: 'Scale' },
  { group: 'policy', version: 'v1', kind: 'Eviction' },
  { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
];

async function main(): Promise<void> {
  const models = await readClientNodeModels();
  const gvks = new Map<string, Gvk[]>();
  const seeds: { className: string; group: string }[] = [];
  // `shared`: meta types (DeleteOptions, WatchEvent) are one v1 class listed under every group version.
  const addKind = (gvk: Gvk, required: boolean, shared = false): void => {
    const className = classForKind(models, gvk.group, gvk.version, gvk.kind) ?? (shared ? classForKind(models, '', 'v1', gvk.kind) : undefined);
    if (!className) {
      if (required) throw new Error(`client-node has no model for ${gvk.group}/${gvk.version} ${gvk.kind}`);
      return;
    }
    seeds.push({ className, group: gvk.group });
    gvks.set(className, [...(gvks.get(className) ?? []), gvk]);
  };
  for (const r of RESOURCES) {
    addKind({ group: r.group, version: r.version, kind: r.kind }, true);
    addKind({ group: r.group, version: r.version, kind: `${r.kind}List` }, true);
  }
  for (const k of EXTRA_KINDS) addKind(k, true);
  // Status, DeleteOptions and WatchEvent are shared by every group version.
  addKind({ group: '', version: 'v1', kind: 'Status' }, true);
  for (const gv of groupVersions()) {
    addKind({ group: gv.group, version: gv.version, kind: 'DeleteOptions' }, true, true);
    addKind({ group: gv.group, version: gv.version, kind: 'WatchEvent' }, true, true);
  }
  // The core group claims shared types first, as Kubernetes' own packages do.
  seeds.sort((a, b) => Number(a.group !== '') - Number(b.group !== ''));

  const names = assignDefinitionNames(models, seeds);
  const definitions: Record<string, JsonSchema> = builtinDefinitions();
  for (const [className, name] of names) {
    if (definitions[name]) throw new Error(`two client-node classes map to ${name}`);
    const schema = modelToSchema(models.get(className)!, { names });
    const kinds = gvks.get(className);
    if (kinds) schema['x-kubernetes-group-version-kind'] = dedupe(kinds).map((k) => ({ group: k.group, kind: k.kind, version: k.version }));
    definitions[name] = schema;
  }

  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'api', 'openapi', 'generated', 'definitions.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, serialise(definitions));
  console.log(`wrote ${Object.keys(definitions).length} definitions from client-node (OpenAPI ${clientNodeSpecVersion()}) to ${out}`);
}

function dedupe(kinds: Gvk[]): Gvk[] {
  const seen = new Set<string>();
  return kinds.filter((k) => !seen.has(`${k.group}/${k.version}/${k.kind}`) && !!seen.add(`${k.group}/${k.version}/${k.kind}`));
}

/** One definition per line, sorted: compact, yet a regenerated file diffs readably. */
function serialise(definitions: Record<string, JsonSchema>): string {
  const lines = Object.keys(definitions).sort().map((name) => `${JSON.stringify(name)}:${JSON.stringify(definitions[name])}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

await main();
