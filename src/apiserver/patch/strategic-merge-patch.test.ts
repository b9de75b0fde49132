import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch } from './strategic-merge-patch.ts';
import { PatchError } from './errors.ts';
import { deploymentSchema, podSchema } from './test-schemas.ts';

interface Container { name: string; image?: string; env?: { name: string; value?: string }[]; args?: string[] }
interface Deployment {
  metadata: { name: string; labels?: Record<string, string>; finalizers?: string[] };
  spec: {
    replicas: number;
    strategy?: Record<string, unknown>;
    template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; volumes?: Record<string, unknown>[] } };
  };
}

const live = (): Deployment => ({
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['example.com/a', 'example.com/b'] },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }], args: ['--a', '--b'] },
          { name: 'sidecar', image: 'envoy:1' },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    },
  },
});

const smp = (patch: unknown, doc: unknown = live()): Deployment => applyStrategicMergePatch(doc, patch, deploymentSchema) as Deployment;
const containersPatch = (spec: Record<string, unknown>) => ({ spec: { template: { spec: spec } } });
const names = (items: { name: string }[] | undefined) => (items ?? []).map((i) => i.name);

function expectPatchError(fn: () => unknown, code: 400 | 422, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PatchError, `expected PatchError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

test('kubectl apply changing the image of one container of two, by name', () => {
  const doc = live();
  const out = smp(
    containersPatch({
      '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
      containers: [{ image: 'nginx:1.26', name: 'web' }],
    }),
    doc,
  );
  assert.deepEqual(out.spec.template.spec.containers, [
    { name: 'web', image: 'nginx:1.26', env: [{ name: 'A', value: '1' }], args: ['--a', '--b'] },
    { name: 'sidecar', image: 'envoy:1' },
  ]);
  assert.equal(doc.spec.template.spec.containers[0]?.image, 'nginx:1.25', 'input untouched');
});

test('adding an env var merges into the container env by name', () => {
  const out = smp(
    containersPatch({
      '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
      containers: [{ '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: [{ name: 'B', value: '2' }], name: 'web' }],
    }),
  );
  assert.deepEqual(out.spec.template.spec.containers[0]?.env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
  assert.deepEqual(names(out.spec.template.spec.containers), ['web', 'sidecar']);
});

test('$patch: delete in a list item removes that container', () => {
  const out = smp(containersPatch({ '$setElementOrder/containers': [{ name: 'web' }], containers: [{ $patch: 'delete', name: 'sidecar' }] }));
  assert.deepEqual(names(out.spec.template.spec.containers), ['web']);
});

test('$setElementOrder orders listed items; server-only items interleave by server order', () => {
  // The env example of the Kubernetes "preserve order in strategic merge patch" design.
  const doc = live();
  (doc.spec.template.spec.containers[0] as Container).env = ['ENV2', 'ENV5', 'ENV1', 'ENV3', 'ENV4'].map((name) => ({ name, value: name }));
  const out = smp(
    containersPatch({
      containers: [
        {
          name: 'web',
          '$setElementOrder/env': [{ name: 'ENV1' }, { name: 'ENV2' }, { name: 'ENV6' }],
          env: [{ name: 'ENV3', $patch: 'delete' }, { name: 'ENV6', value: 'new' }],
        },
      ],
    }),
    doc,
  );
  assert.deepEqual(names(out.spec.template.spec.containers[0]?.env), ['ENV5', 'ENV1', 'ENV2', 'ENV6', 'ENV4']);
});

test('$setElementOrder alone reorders', () => {
  const out = smp(containersPatch({ '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }] }));
  assert.deepEqual(names(out.spec.template.spec.containers), ['sidecar', 'web']);
});

test('a patch list out of step with $setElementOrder is rejected', () => {
  expectPatchError(
    () => smp(containersPatch({ '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }], containers: [{ name: 'sidecar' }, { name: 'web' }] })),
    400,
    /doesn't match/,
  );
});

test('without $setElementOrder a brand-new item goes first, as in Kubernetes', () => {
  const out = smp(containersPatch({ containers: [{ name: 'debug', image: 'busybox' }] }));
  assert.deepEqual(names(out.spec.template.spec.containers), ['debug', 'web', 'sidecar']);
});

test('$retainKeys clears the keys it does not list', () => {
  const out = smp({ spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } });
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });

  const volumes = smp(
    containersPatch({
      '$setElementOrder/volumes': [{ name: 'data' }],
      volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }],
    }),
  );
  assert.deepEqual(volumes.spec.template.spec.volumes, [{ name: 'data', configMap: { name: 'cfg' } }]);

  expectPatchError(() => smp({ spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: '1' } } } }), 400, /retainKeys/);
});

test('finalizers (merge strategy, no key) are unioned without duplicates', () => {
  const out = smp({ metadata: { finalizers: ['example.com/b', 'example.com/c'] } });
  assert.deepEqual(out.metadata.finalizers, ['example.com/a', 'example.com/b', 'example.com/c']);
});

test('$deleteFromPrimitiveList removes finalizers, as kubectl apply sends it', () => {
  const out = smp({
    metadata: {
      '$setElementOrder/finalizers': ['example.com/a', 'example.com/c'],
      '$deleteFromPrimitiveList/finalizers': ['example.com/b'],
      finalizers: ['example.com/c'],
    },
  });
  assert.deepEqual(out.metadata.finalizers, ['example.com/a', 'example.com/c']);
});

test('null deletes a field; lists without a merge strategy are replaced', () => {
  const out = smp({
    metadata: { labels: { tier: null } },
    spec: { template: { spec: { containers: [{ name: 'web', args: ['--c'] }] } } },
  });
  assert.deepEqual(out.metadata.labels, { app: 'web' });
  assert.deepEqual(out.spec.template.spec.containers.find((c) => c.name === 'web')?.args, ['--c']);
});

test('$patch: replace and $patch: delete on maps; $patch: replace on a list', () => {
  const replacedLabels = smp({ metadata: { labels: { $patch: 'replace', only: 'this' } } });
  assert.deepEqual(replacedLabels.metadata.labels, { only: 'this' });

  const deletedLabels = smp({ spec: { template: { metadata: { labels: { $patch: 'delete' } } } } });
  assert.deepEqual(deletedLabels.spec.template.metadata.labels, {});

  const replacedList = smp(containersPatch({ containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] }));
  assert.deepEqual(replacedList.spec.template.spec.containers, [{ name: 'only', image: 'x' }]);

  const merged = smp({ metadata: { labels: { $patch: 'merge', extra: 'yes' } } });
  assert.deepEqual(merged.metadata.labels, { app: 'web', tier: 'front', extra: 'yes' });
});

test('directives never leak into new values', () => {
  const out = applyStrategicMergePatch(
    { metadata: { name: 'p' } },
    {
      spec: {
        '$setElementOrder/containers': [{ name: 'a' }],
        containers: [{ name: 'a', '$setElementOrder/env': [{ name: 'X' }], env: [{ name: 'X', value: '1' }, { name: 'Y', $patch: 'delete' }] }],
        nodeSelector: { $patch: 'replace', disk: 'ssd', gone: null },
      },
    },
    podSchema,
  );
  assert.deepEqual(out, {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'a', env: [{ name: 'X', value: '1' }] }], nodeSelector: { disk: 'ssd' } },
  });
  assert.doesNotMatch(JSON.stringify(out), /\$/);
});

test('malformed directives and missing merge keys are errors', () => {
  expectPatchError(() => smp({ metadata: { labels: { $patch: 'explode' } } }), 400, /unknown patch type/);
  expectPatchError(() => smp(containersPatch({ containers: [{ image: 'no-name' }] })), 422, /merge key: name/);
  expectPatchError(() => smp(containersPatch({ containers: [{ $patch: 'delete' }] })), 422, /merge key/);
  expectPatchError(() => smp(['not', 'an', 'object']), 400);
  expectPatchError(() => smp({ metadata: { '$setElementOrder/finalizers': 'nope' } }), 400);
});

test('without a schema it behaves as a JSON merge patch', () => {
  const out = applyStrategicMergePatch({ spec: { items: [1, 2], keep: true } }, { spec: { items: [3], keep: null } }, undefined);
  assert.deepEqual(out, { spec: { items: [3] } });
});
