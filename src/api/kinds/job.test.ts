import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { strategyFor } from './index.ts';

const jobs = strategyFor('batch', 'Job');
const UID = '3f1c2a9e-0000-4000-8000-000000000001';

function job(spec: Record<string, unknown> = {}, labels?: Record<string, string>): KObject {
  const j: KObject = {
    metadata: { name: 'pi', namespace: 'default', uid: UID },
    spec: { template: { metadata: labels ? { labels } : {}, spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34' }] } }, ...spec },
  };
  jobs.defaults!(j);
  jobs.prepareForCreate!(j);
  return j;
}

test('defaults: one completion, parallelism 1, backoff 6, NonIndexed', () => {
  const spec = job().spec as Record<string, any>;
  assert.equal(spec.completions, 1);
  assert.equal(spec.parallelism, 1);
  assert.equal(spec.backoffLimit, 6);
  assert.equal(spec.completionMode, 'NonIndexed');
  assert.equal(spec.suspend, false);
  // A work queue job (parallelism only) keeps completions unset.
  assert.equal((job({ parallelism: 3 }).spec as any).completions, undefined);
});

test('selector and pod labels are generated from the uid', () => {
  const j = job({}, { app: 'pi' });
  const spec = j.spec as Record<string, any>;
  assert.deepEqual(spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
  assert.deepEqual(spec.template.metadata.labels, {
    app: 'pi',
    'batch.kubernetes.io/controller-uid': UID,
    'batch.kubernetes.io/job-name': 'pi',
    'controller-uid': UID,
    'job-name': 'pi',
  });
  assert.deepEqual(j.metadata.labels, spec.template.metadata.labels);
  assert.deepEqual(jobs.validate!(j), []);
});

test('manualSelector leaves the selector alone', () => {
  const j = job({ manualSelector: true, selector: { matchLabels: { app: 'pi' } } }, { app: 'pi' });
  assert.deepEqual((j.spec as any).selector, { matchLabels: { app: 'pi' } });
  assert.deepEqual((j.spec as any).template.metadata.labels, { app: 'pi' });
  assert.deepEqual(jobs.validate!(j), []);
});

test('template restart policy must be Never or OnFailure', () => {
  const j = job();
  (j.spec as any).template.spec.restartPolicy = 'Always';
  assert.deepEqual(jobs.validate!(j).map(formatFieldError), ['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
});

test('update: selector and template are immutable once running', () => {
  const old = job();
  const next = structuredClone(old);
  (next.spec as any).template.spec.containers[0].image = 'perl:5.36';
  assert.deepEqual(jobs.validateUpdate!(next, old).map((e) => e.field), ['spec.template']);
  const suspended = job({ suspend: true });
  const resumed = structuredClone(suspended);
  (resumed.spec as any).template.spec.containers[0].image = 'perl:5.36';
  assert.deepEqual(jobs.validateUpdate!(resumed, suspended), []);
});

test('table: status, completions, duration', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const j = job();
  j.metadata.creationTimestamp = '2024-05-01T11:58:00Z';
  j.status = { startTime: '2024-05-01T11:58:00Z', succeeded: 0 };
  assert.deepEqual(jobs.table!.cells(j, now).slice(0, 4), ['Running', '0/1', '2m', '2m']);
  j.status = { startTime: '2024-05-01T11:58:00Z', completionTime: '2024-05-01T11:58:30Z', succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] };
  assert.deepEqual(jobs.table!.cells(j, now).slice(0, 3), ['Complete', '1/1', '30s']);
  assert.equal(jobs.table!.cells(job({ parallelism: 3 }), now)[1], '0/1 of 3');
});
