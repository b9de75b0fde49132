// Builds Skiff's own images (skiff.local/pause:1, skiff.local/busybox:1) as OCI archives,
// with no registry: `node --import tsx scripts/build-images.ts [--out DIR]` (default
// dist/images). Rebuilds only what is missing or stale; import the results with
// `ctr -a SOCK -n k8s.io images import DIR/pause.tar`.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuiltinImages, ImageBuildError } from '../src/agent/images/builtin.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

const { values } = parseArgs({ options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('usage: node --import tsx scripts/build-images.ts [--out DIR]   (default dist/images)');
  process.exit(0);
}
const out = path.resolve(values.out ?? path.join(ROOT, 'dist', 'images'));
const started = Date.now();
try {
  const images = await ensureBuiltinImages(out, { log: (m) => console.log(m) });
  for (const img of images) console.log(`${img.name}\t${img.digest}\t${img.file}`);
  console.log(`done in ${Date.now() - started} ms`);
} catch (err) {
  if (err instanceof ImageBuildError) {
    console.error(`build-images: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
