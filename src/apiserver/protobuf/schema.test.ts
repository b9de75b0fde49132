import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MESSAGES } from './messages.ts';
import { isScalar, messageSpec } from './schema.ts';
import { SPECIAL_TYPES } from './special.ts';
import { rootMessage } from './kinds.ts';

test('every table parses and every referenced message type has a table', () => {
  for (const type of Object.keys(MESSAGES)) {
    const spec = messageSpec(type);
    assert.ok(spec, type); // some messages (feature-gated policies) have no fields
    for (const f of spec.values()) {
      assert.ok(isScalar(f.type) || SPECIAL_TYPES.has(f.type) || MESSAGES[f.type] !== undefined, `${type}.${f.json} -> ${f.type}`);
    }
  }
});

test('notation: repeated, map, inline and keep-zero flags', () => {
  const meta = messageSpec('ObjectMeta')!;
  assert.deepEqual(meta.get(1), { json: 'name', type: 's', repeated: false, map: false, inline: false, keepZero: false });
  assert.equal(meta.get(8)!.type, 'Time');
  assert.ok(meta.get(11)!.map);
  assert.ok(meta.get(14)!.repeated);
  assert.equal(meta.get(17)!.json, 'managedFields');
  assert.ok(messageSpec('DeploymentSpec')!.get(1)!.keepZero, 'replicas is a pointer');
  assert.ok(messageSpec('Probe')!.get(1)!.inline, 'ProbeHandler is embedded');
  assert.equal(messageSpec('Nope'), undefined);
});

test('kinds map to root messages', () => {
  assert.equal(rootMessage('apps/v1', 'Deployment'), 'Deployment');
  assert.equal(rootMessage('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'), 'ClusterRoleBinding');
  assert.equal(rootMessage('v1', 'Deployment'), undefined);
});
