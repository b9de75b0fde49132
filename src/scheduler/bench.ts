// Scheduler throughput on a big fake cluster: `node --import tsx src/scheduler/bench.ts [nodes] [pods]`.
// Pods go through the whole Scheduler (queue, cache, snapshot, plugins, binder) with
// a binder that confirms at once, as the informer would.
import type { KObject } from '../api/object.ts';
import { Scheduler } from './scheduler.ts';
import { node, pod } from './testing.ts';

const numNodes = Number(process.argv[2] ?? 5000);
const numPods = Number(process.argv[3] ?? 2000);

async function run(label: string, makePod: (i: number) => KObject): Promise<void> {
  let bound = 0;
  const sched: Scheduler = new Scheduler({
    binder: {
      async bind(p, nodeName) {
        bound++;
        sched.onPodUpdate(p, { ...p, spec: { ...(p.spec as object), nodeName } });
      },
    },
    recorder: { async unschedulable() {}, async preempt() {} },
  });
  for (let i = 0; i < numNodes; i++) {
    sched.onNodeAdd(node(`node-${i}`, { cpu: '8', memory: '32Gi', labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` } }));
  }
  const loop = sched.run();
  const t0 = performance.now();
  for (let i = 0; i < numPods; i++) sched.onPodAdd(makePod(i));
  await sched.settle();
  const ms = performance.now() - t0;
  sched.stop();
  await loop;
  console.log(`${label}: ${numNodes} nodes, ${bound}/${numPods} pods bound in ${ms.toFixed(0)} ms: ` +
    `${(ms / numPods).toFixed(3)} ms/pod, ${Math.round((numPods / ms) * 1000)} pods/s`);
}

await run('plain', (i) => pod(`p-${i}`, { cpu: '100m', memory: '128Mi' }));
await run('spread+anti-affinity', (i) => pod(`s-${i}`, {
  cpu: '100m', labels: { app: `app-${i % 20}` },
  spec: {
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: `app-${i % 20}` } } }],
    affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: `app-${i % 20}` } }, topologyKey: 'kubernetes.io/hostname' }] } },
  },
}));
