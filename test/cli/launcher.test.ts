// bin/skiff.js runs the bundle in dist/ only while every input it was built from is
// unchanged, and the TypeScript sources otherwise. Checked in a scratch tree: a copy of
// bin/skiff.js, a stand-in bundle and main.ts that say which one ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

function scratchTree(): { dir: string; run(env?: Record<string, string>): string; writeInfo(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skiff-launcher-'));
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'dist'));
  mkdirSync(path.join(dir, 'src/cli'), { recursive: true });
  copyFileSync(path.join(ROOT, 'bin/skiff.js'), path.join(dir, 'bin/skiff.js'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  writeFileSync(path.join(dir, 'src/cli/main.ts'), "const from: string = 'source';\nconsole.log(from);\n");
  writeFileSync(path.join(dir, 'dist/skiff-TEST.js'), "console.log('bundle');\n");
  const writeInfo = () => {
    const st = statSync(path.join(dir, 'src/cli/main.ts'));
    writeFileSync(path.join(dir, 'dist/build-info.json'), JSON.stringify({ bundle: 'skiff-TEST.js', inputs: { 'src/cli/main.ts': [st.size, st.mtimeMs] } }));
  };
  const run = (env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [path.join(dir, 'bin/skiff.js')], { encoding: 'utf8', env: { ...process.env, SKIFF_FROM_SOURCE: '', ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  return { dir, run, writeInfo };
}

test('runs the bundle while its inputs are unchanged', (t) => {
  const tree = scratchTree();
  t.after(() => rmSync(tree.dir, { recursive: true, force: true }));
  tree.writeInfo();
  assert.equal(tree.run(), 'bundle');
  assert.equal(tree.run({ SKIFF_FROM_SOURCE: '1' }), 'source');
});

test('runs the sources when an input changed, is gone, or nothing was built', (t) => {
  const tree = scratchTree();
  t.after(() => rmSync(tree.dir, { recursive: true, force: true }));
  const main = path.join(tree.dir, 'src/cli/main.ts');
  assert.equal(tree.run(), 'source'); // no build-info.json

  tree.writeInfo();
  const later = new Date(statSync(main).mtimeMs + 5000);
  utimesSync(main, later, later); // same content, touched
  assert.equal(tree.run(), 'source');

  tree.writeInfo();
  assert.equal(tree.run(), 'bundle');
  rmSync(path.join(tree.dir, 'dist/skiff-TEST.js')); // replaced by a newer build
  assert.equal(tree.run(), 'source');
});

test('SKIFF_FROM_BUNDLE=1 runs the last bundle even after an input changed', (t) => {
  const tree = scratchTree();
  t.after(() => rmSync(tree.dir, { recursive: true, force: true }));
  tree.writeInfo();
  const main = path.join(tree.dir, 'src/cli/main.ts');
  const later = new Date(statSync(main).mtimeMs + 5000);
  utimesSync(main, later, later);
  assert.equal(tree.run(), 'source');
  assert.equal(tree.run({ SKIFF_FROM_BUNDLE: '1' }), 'bundle');
});

test('`skiff agent` gets the memory V8 flags, all known to this Node; other commands none', (t) => {
  const tree = scratchTree();
  t.after(() => rmSync(tree.dir, { recursive: true, force: true }));
  tree.writeInfo();
  const launch = (args: string[], env: Record<string, string | undefined> = {}) => {
    const e: NodeJS.ProcessEnv = { ...process.env, SKIFF_FROM_SOURCE: '' };
    delete e.SKIFF_AGENT_V8_FLAGS;
    const r = spawnSync(process.execPath, [path.join(tree.dir, 'bin/skiff.js'), ...args], { encoding: 'utf8', env: { ...e, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r;
  };
  // V8 names a flag it does not know on stderr: the default list has none of those.
  const agent = launch(['agent']);
  assert.equal(agent.stdout.trim(), 'bundle');
  assert.equal(agent.stderr, '');
  // The list is applied for `agent` only; SKIFF_AGENT_V8_FLAGS replaces it.
  assert.match(launch(['agent'], { SKIFF_AGENT_V8_FLAGS: '--no-such-skiff-flag' }).stderr, /no-such-skiff-flag/);
  assert.doesNotMatch(launch(['server'], { SKIFF_AGENT_V8_FLAGS: '--no-such-skiff-flag' }).stderr, /no-such-skiff-flag/);
  assert.equal(launch(['agent'], { SKIFF_AGENT_V8_FLAGS: '' }).stderr, '');
});
