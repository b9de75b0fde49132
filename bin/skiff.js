#!/usr/bin/env node
// Runs the bundle scripts/build.ts writes to dist/ while every file it was built from is
// unchanged (same size and mtime), else the TypeScript sources through tsx's loader, so
// an edited tree never runs stale code. SKIFF_FROM_SOURCE=1 always runs the sources.
import { existsSync, readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

function currentBundle() {
  if (process.env.SKIFF_FROM_SOURCE === '1') return undefined;
  try {
    const { bundle, inputs } = JSON.parse(readFileSync(new URL('dist/build-info.json', root), 'utf8'));
    for (const [file, [size, mtimeMs]] of Object.entries(inputs)) {
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
