import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFamilies, parseText } from './prometheus.ts';

test('families are written with HELP, TYPE, sorted escaped labels and timestamps, and read back', () => {
  const text = formatFamilies([
    { name: 'x_total', help: 'An x.', type: 'counter', samples: [{ labels: { pod: 'p"1', container: 'c\\' }, value: 1.5, timestampMs: 1700000000123 }] },
    { name: 'y', help: 'A y.', type: 'gauge', samples: [{ value: 2 }] },
  ]);
  assert.equal(text, '# HELP x_total An x.\n# TYPE x_total counter\nx_total{container="c\\\\",pod="p\\"1"} 1.5 1700000000123\n# HELP y A y.\n# TYPE y gauge\ny 2\n');
  assert.deepEqual(parseText(text), [
    { name: 'x_total', labels: { container: 'c\\', pod: 'p"1' }, value: 1.5, timestampMs: 1700000000123 },
    { name: 'y', labels: {}, value: 2 },
  ]);
});

test('parseText reads exponents, +Inf and rejects garbage', () => {
  assert.deepEqual(parseText('a{le="+Inf"} 1.2e+07\nb +Inf\n'), [
    { name: 'a', labels: { le: '+Inf' }, value: 1.2e7 },
    { name: 'b', labels: {}, value: Infinity },
  ]);
  assert.throws(() => parseText('a{x=1} 2'));
  assert.throws(() => parseText('a notanumber'));
});
