// `npm run bench -- <name> [--quick]`: runs one benchmark; each prints a table and writes
// bench/results/<name>.json.
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  api: () => import('./api.ts'),
  scheduler: () => import('./scheduler.ts'),
  sim: () => import('./sim.ts'),
  'pod-startup': () => import('./pod-startup.ts'),
  'proxy-sync': () => import('./proxy-sync.ts'),
  'endpoint-ready': () => import('./endpoint-ready.ts'),
  'netpol-sync': () => import('./netpol-sync.ts'),
  dns: () => import('./dns.ts'),
  footprint: () => import('./footprint.ts'),
  scale: () => import('./scale.ts'),
  report: () => import('./report.ts'),
  store: () => import('./store.ts'),
  heartbeat: () => import('./heartbeat.ts'),
};

const [name, ...args] = process.argv.slice(2);
if (!name || !benches[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--quick]`);
  process.exit(2);
}
await (await benches[name]()).run(args);
