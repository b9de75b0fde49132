import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strategyFor } from './index.ts';

const sts = (mounts: string[]) => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default' },
  spec: {
    selector: { matchLabels: { app: 'web' } }, serviceName: 'web',
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: mounts.map((name) => ({ name, mountPath: `/${name}` })) }] } },
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  },
});

test('containers may mount volumeClaimTemplates; unknown volumes are still refused', () => {
  const s = strategyFor('apps', 'StatefulSet');
  const ok = sts(['www']);
  s.defaults!(ok as never);
  assert.deepEqual(s.validate!(ok as never), []);
  const bad = sts(['nope']);
  s.defaults!(bad as never);
  const errors = s.validate!(bad as never);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].field, 'spec.template.spec.containers[0].volumeMounts[0].name');
  assert.equal((ok.spec.template.spec as { volumes?: unknown }).volumes, undefined, 'validation does not change the object');
});
