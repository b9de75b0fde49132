// Bundles the CLI (src/cli/main.ts and everything it imports, dependencies included)
// into one file in dist/, so `skiff` starts without tsx transpiling ~150 files in a loader
// thread: about a third of the start time and of the idle RSS.
//
// `node --import tsx scripts/build.ts` (or `npm run build`); scripts/install-deps.sh runs
// it, so `npm test` and `scripts/up.sh` always build first. dist/build-info.json names
// the bundle and records the size and mtime of every input (sources and bundled
// packages); bin/skiff.js runs the bundle only while they all still match, and the
// sources through tsx otherwise, so an edited tree never runs stale code.
import { build, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT_DIR = path.join(ROOT, 'dist');
export const BUILD_INFO = path.join(OUT_DIR, 'build-info.json');

/** What bin/skiff.js reads: the bundle to run, and each input's size and mtime (ms) when it was built. */
export interface BuildInfo {
  bundle: string;
  inputs: Record<string, [size: number, mtimeMs: number]>;
}

/**
 * Source files find data beside them with `new URL('./x.json', import.meta.url)`. In the
 * bundle import.meta.url is dist/skiff-<hash>.js, so each such URL is rewritten to point from
 * dist/ to the same file; any other use of import.meta in src/ fails the build rather
 * than resolving against the wrong directory at run time.
 */
const sourceRelativeUrls: Plugin = {
  name: 'source-relative-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      if (!args.path.startsWith(path.join(ROOT, 'src') + path.sep)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('import.meta')) return undefined;
      const contents = source.replace(/new URL\((['"])([^'"]+)\1, import\.meta\.url\)/g, (_m, _q, rel: string) => {
        const target = path.resolve(path.dirname(args.path), rel);
        return `new URL(${JSON.stringify(path.relative(OUT_DIR, target).split(path.sep).join('/'))}, import.meta.url)`;
      });
      const rest = contents.replace(/new URL\("[^"]+", import\.meta\.url\)/g, '');
      if (rest.includes('import.meta')) {
        return { errors: [{ text: `${path.relative(ROOT, args.path)}: only new URL('<relative path>', import.meta.url) is supported in bundled code` }] };
      }
      return { contents, loader: 'ts' };
    });
  },
};

export async function buildDist(): Promise<BuildInfo> {
  // A file saved while esbuild reads the tree may be in the bundle as it was before, so
  // only inputs last changed before the build started are vouched for (with a second's
  // margin: file times come from a coarse clock). Otherwise build again; after three
  // tries the changing files are recorded as never matching, so bin/skiff.js runs the
  // sources until the next build.
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const built = await bundle();
    const changed = Object.keys(built.info.inputs).filter((f) => built.info.inputs[f]![1] >= started - 1000);
    if (changed.length === 0) return write(built);
    if (attempt === 3) {
      console.error(`skiff: ${changed.join(', ')} changed during the build; bin/skiff.js will run the sources`);
      for (const f of changed) built.info.inputs[f] = [-1, -1];
      return write(built);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function bundle() {
  const result = await build({
    entryPoints: [path.join(ROOT, 'src/cli/main.ts')],
    // Named by content, and build-info.json names the one it vouches for: a build never
    // rewrites a file that a starting server may be reading.
    entryNames: 'skiff-[hash]',
    outdir: OUT_DIR,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Chunks: each command (src/cli/main.ts imports them lazily) loads only its own code,
    // so `skiff agent` does not parse the API server's (about 10 MB less RSS).
    splitting: true,
    chunkNames: 'chunk-[hash]',
    // ESM builds where a package has one (@peculiar/x509's CommonJS build is slower to
    // evaluate).
    mainFields: ['module', 'main'],
    // Loaded from node_modules at run time: a native addon, and the etcd client (its
    // CommonJS dependencies use __dirname, which an ESM bundle does not have; it is
    // imported only when --datastore-endpoint names etcd).
    external: ['better-sqlite3', 'etcd3'],
    // Class and function names as in the sources (error names, stack traces).
    keepNames: true,
    // No comments or indentation: V8 keeps every loaded chunk's source text in memory,
    // and one non-Latin-1 character in a kept comment (an arrow, a dash) stores a whole
    // chunk as two bytes per character: 1 MB less for `skiff agent`, 2-3 MB for the server.
    // Stack traces then point into long lines; the source map below maps them back.
    minifyWhitespace: true,
    // For NODE_OPTIONS=--enable-source-maps; Node does not read it otherwise.
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: [sourceRelativeUrls],
    // Bundled CommonJS dependencies call require() for Node's own modules.
    banner: { js: "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);" },
  });

  const inputs: BuildInfo['inputs'] = {};
  for (const file of Object.keys(result.metafile.inputs).sort()) {
    const abs = path.resolve(ROOT, file);
    const st = statSync(abs);
    inputs[path.relative(ROOT, abs).split(path.sep).join('/')] = [st.size, st.mtimeMs];
  }
  // With splitting every lazily imported module is an entry point of its own; ours is main.ts.
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === 'src/cli/main.ts')![0];
  const js = result.outputFiles.find((f) => f.path.endsWith(path.basename(entry)))!;
  return { info: { bundle: path.basename(js.path), inputs } satisfies BuildInfo, outputFiles: result.outputFiles };
}

function write({ info, outputFiles }: Awaited<ReturnType<typeof bundle>>): BuildInfo {
  // Each file written whole under a temporary name and renamed into place; the bundle
  // before the record that names it.
  mkdirSync(OUT_DIR, { recursive: true });
  const place = (file: string, contents: Uint8Array | string) => {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, contents);
    renameSync(tmp, file);
  };
  for (const out of outputFiles) place(out.path, out.contents);
  place(BUILD_INFO, JSON.stringify(info, null, 1) + '\n');
  // Older builds' files go after a week: a process started from one may still import a
  // chunk of it lazily (a server running for days), and a week of builds is a few MB.
  const keep = new Set(outputFiles.map((f) => path.basename(f.path)));
  const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
  for (const name of readdirSync(OUT_DIR)) {
    if (!/^(skiff|chunk)-.*\.js(\.map)?$/.test(name) || keep.has(name)) continue;
    const file = path.join(OUT_DIR, name);
    if (statSync(file).mtimeMs < weekAgo) rmSync(file, { force: true });
  }
  return info;
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const started = performance.now();
  const info = await buildDist();
  console.error(`skiff: built dist/${info.bundle} and its chunks from ${Object.keys(info.inputs).length} files in ${Math.round(performance.now() - started)} ms`);
}
