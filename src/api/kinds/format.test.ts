import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, listWithMore, since } from './format.ts';

test('humanDuration matches kubectl ages', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'], [-1 * s, '0s'], [0, '0s'], [59 * s, '59s'], [119 * s, '119s'], [120 * s, '2m'],
    [200 * s, '3m20s'], [15 * 60 * s, '15m'], [179 * 60 * s, '179m'], [3 * 3600 * s, '3h'], [(4 * 60 + 10) * 60 * s, '4h10m'],
    [20 * 3600 * s, '20h'], [50 * 3600 * s, '2d2h'], [72 * 3600 * s, '3d'], [30 * 86400 * s, '30d'], [800 * 86400 * s, '2y70d'],
    [10 * 365 * 86400 * s, '10y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test('since handles missing timestamps', () => {
  assert.equal(since(undefined, 0), '<unknown>');
  assert.equal(since('2024-01-01T00:00:00Z', Date.parse('2024-01-01T00:01:00Z')), '60s');
});

test('listWithMore caps at three', () => {
  assert.equal(listWithMore(['a', 'b', 'c', 'd', 'e']), 'a,b,c + 2 more...');
  assert.equal(listWithMore([], 3, '<unset>'), '<unset>');
});
