// Endpoint ready → traffic reaches it, on a real node (root; containerd): `skiff server`
// with its agent, a ClusterIP Service, and N times (default 10; --quick 3) a pod created
// for it while the bench connects to the ClusterIP from the node every 2 ms (refused while
// there is no endpoint). Reports how long after the pod's Ready condition, and after the
// EndpointSlice listing it ready, each seen on a watch, the first answer from the pod came
// back. The second is the proxy's own share (informer delivery, debounce, nft).
import http from 'node:http';
import { parseArgs } from 'node:util';
import { startServer, type TestServer } from '../test/helpers/cluster.ts';
import { TEST_IMAGE } from '../test/helpers/pods.ts';
import { report, summarize, type Row } from './lib.ts';

const log = (msg: string) => console.error(`[endpoint-ready bench] ${msg}`);

function answer(ip: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port: 80, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('error', () => resolve(undefined));
    req.setTimeout(1000, () => req.destroy());
  });
}

/** Resolves with performance.now() when `until` first holds for an event of the watch. */
function watchFor(s: TestServer, path: string, until: (ev: any) => boolean): Promise<number> {
  let at = 0;
  return s.watchEvents(path, (events) => {
    if (!at && until(events.at(-1))) at = performance.now();
    return at > 0;
  }, 120_000).then(() => at);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean' }, pods: { type: 'string' } } });
  const n = Number(values.pods ?? (values.quick ? 3 : 10));
  log('starting a server with an agent');
  const s = await startServer({ agent: true });
  try {
    await s.kubectlOk(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: Service\nmetadata: {name: rb}\nspec:\n  selector: {app: rb}\n  ports: [{port: 80, targetPort: 8080}]\n' });
    const ip = (await s.request('GET', '/api/v1/namespaces/default/services/rb')).json.spec.clusterIP as string;
    const fromPodReady: number[] = [];
    const fromSlice: number[] = [];
    for (let i = 0; i < n; i++) {
      const name = `rb-${i}`;
      const rv = (await s.request('GET', '/api/v1/namespaces/default/pods')).json.metadata.resourceVersion;
      const podReady = watchFor(s, `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}&fieldSelector=metadata.name%3D${name}`,
        (ev) => ev?.object?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
      const sliceRv = (await s.request('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices')).json.metadata.resourceVersion;
      const sliceReady = watchFor(s, `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=1&resourceVersion=${sliceRv}&labelSelector=kubernetes.io%2Fservice-name%3Drb`,
        (ev) => ev?.type !== 'DELETED' && (ev?.object?.endpoints ?? []).some((e: any) => e.conditions?.ready !== false && e.targetRef?.name === name));
      await s.kubectlOk(['apply', '-f', '-'], {
        input: `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, labels: {app: rb}}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: main\n    image: ${TEST_IMAGE}\n    command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]\n`,
      });
      const deadline = Date.now() + 60_000;
      let reached = 0;
      while (Date.now() < deadline) {
        if ((await answer(ip)) === name) { reached = performance.now(); break; }
        await new Promise((r) => setTimeout(r, 2));
      }
      if (!reached) throw new Error(`${name} never answered through ${ip}`);
      const [tPod, tSlice] = await Promise.all([podReady, sliceReady]);
      fromPodReady.push(reached - tPod);
      fromSlice.push(reached - tSlice);
      log(`${name}: pod Ready → traffic ${Math.round(reached - tPod)} ms, slice ready → traffic ${Math.round(reached - tSlice)} ms`);
      await s.kubectlOk(['delete', 'pod', name, '--grace-period=0', '--wait=true']);
      while ((await answer(ip)) !== undefined) await new Promise((r) => setTimeout(r, 20));
    }
    const a = summarize(fromPodReady);
    const b = summarize(fromSlice);
    const rows: Row[] = [
      { metric: 'pod Ready (watch) → first answer p50', value: a.p50, unit: 'ms', goal: '≤ 200' },
      { metric: 'pod Ready (watch) → first answer max', value: a.max, unit: 'ms' },
      { metric: 'slice ready (watch) → first answer p50', value: b.p50, unit: 'ms' },
      { metric: 'slice ready (watch) → first answer max', value: b.max, unit: 'ms' },
    ];
    report('endpoint-ready', rows, { pods: n, fromPodReady: a, fromSlice: b });
  } finally {
    await s.stop();
  }
}
