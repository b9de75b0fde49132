#!/usr/bin/env node
// Runs the bundle scripts/build.ts writes to dist/ while every file it was built from is
// unchanged (same size and mtime), else the TypeScript sources through tsx's loader, so
// an edited tree never runs stale code. SKIFF_FROM_SOURCE=1 always runs the sources;
// SKIFF_FROM_BUNDLE=1 runs the last bundle built even when the tree changed since (benches
// on a tree others are editing measure what they built).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

const root = new URL('../', import.meta.url);

// `skiff agent` runs for months on every node and is mostly waiting on sockets, so it trades
// JS speed for memory: no optimizing compilers (their code and the parts of the node binary
// they run stay out of memory; functions still get Sparkplug baseline code) and V8's
// small-heap mode (tighter heap growth, the memory reducer collects the start-up garbage:
// image archives, the first lists): 8 MB less idle RSS, 16 MB while @peculiar/x509 was
// loaded too (bench/README.md, "Agent memory"), for 0.25% of a core more while idle; pod
// startup showed no difference.
// Set before any of Skiff is loaded; these are read where V8 decides, not fixed at start.
// SKIFF_AGENT_V8_FLAGS replaces the list ('' turns it off).
const AGENT_V8_FLAGS = '--no-turbofan --no-maglev --optimize-for-size';
if (process.argv[2] === 'agent') {
  for (const flag of (process.env.SKIFF_AGENT_V8_FLAGS ?? AGENT_V8_FLAGS).split(/\s+/).filter(Boolean)) setFlagsFromString(flag);
}

function currentBundle() {
  if (process.env.SKIFF_FROM_SOURCE === '1') return undefined;
  try {
    const { bundle, inputs } = JSON.parse(readFileSync(new URL('dist/build-info.json', root), 'utf8'));
    for (const [file, [size, mtimeMs]] of process.env.SKIFF_FROM_BUNDLE === '1' ? [] : Object.entries(inputs)) {
      const st = statSync(new URL(file, root));
      if (st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
    }
    return typeof bundle === 'string' ? new URL(`dist/${bundle}`, root) : undefined;
  } catch {
    return undefined; // not built, or an input is gone
  }
}

async function fromSource() {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}

const bundle = currentBundle();
if (!bundle) {
  await fromSource();
} else {
  try {
    await import(bundle.href);
  } catch (err) {
    // A build that finished since the check above has replaced this bundle.
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || existsSync(bundle)) throw err;
    await fromSource();
  }
}
