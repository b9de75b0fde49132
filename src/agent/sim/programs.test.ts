import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerProgram, FOREVER, scriptProgram } from './programs.ts';

const cases: [string, { command?: string[]; args?: string[] }, { durationMs: number; exitCode: number }][] = [
  ['true', { command: ['true'] }, { durationMs: 0, exitCode: 0 }],
  ['/bin/true', { command: ['/bin/true'] }, { durationMs: 0, exitCode: 0 }],
  ['false', { command: ['false'] }, { durationMs: 0, exitCode: 1 }],
  ['sleep 2', { command: ['sleep', '2'] }, { durationMs: 2000, exitCode: 0 }],
  ['sleep 0.5', { command: ['sleep'], args: ['0.5'] }, { durationMs: 500, exitCode: 0 }],
  ['sleep 2m', { command: ['/usr/bin/sleep', '2m'] }, { durationMs: 120_000, exitCode: 0 }],
  ['args only (busybox)', { args: ['sleep', '3'] }, { durationMs: 3000, exitCode: 0 }],
  ['sh -c sleep; exit 3', { command: ['sh', '-c', 'sleep 1; exit 3'] }, { durationMs: 1000, exitCode: 3 }],
  ['sh -c false && sleep', { command: ['/bin/sh', '-c', 'false && sleep 5'] }, { durationMs: 0, exitCode: 1 }],
  ['sh -c exit 0; sleep', { command: ['sh', '-c', 'exit 0; sleep 5'] }, { durationMs: 0, exitCode: 0 }],
  ['echo', { command: ['echo', 'hello'] }, { durationMs: 0, exitCode: 0 }],
  ['bash -c with newlines', { command: ['bash', '-c'], args: ['echo hi\nsleep 2\ntrue'] }, { durationMs: 2000, exitCode: 0 }],
];

for (const [name, container, want] of cases) {
  test(`program: ${name}`, () => assert.deepEqual({ ...containerProgram(container) }, want));
}

test('unknown commands, no command and sleep infinity run until stopped', () => {
  assert.equal(containerProgram({ command: ['nginx', '-g', 'daemon off;'] }), FOREVER);
  assert.equal(containerProgram({}), FOREVER);
  assert.equal(containerProgram({ command: ['sleep', 'infinity'] }), FOREVER);
  assert.equal(scriptProgram('sleep 1; my-server').durationMs, Infinity);
  assert.equal(containerProgram({ command: ['sh'] }), FOREVER);
});
