// `skiff sim` flags → Simulator: N simulated nodes joined to a server with its token.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveCa } from '../agent/sim/ca.ts';
import { defaultNamePrefix, Simulator } from '../agent/sim/simulator.ts';
import { HttpClient } from '../client/http.ts';
import { firstAnswer, splitServers } from '../client/failover.ts';
import { learnApiServers } from '../client/failover-learn.ts';
import { createLogger, type Level } from '../util/log.ts';

const HELP = `usage: skiff sim --server URL --token TOKEN --nodes N [flags]

Joins N simulated nodes (a real agent with a simulated runtime) to a cluster.

  --server URL            the API server (https://host:6443); several as a comma list or a
                          repeated flag (failover, and more learned from the cluster)
  --token TOKEN           the join token (<server data-dir>/token); --token-file FILE reads it
  --ca-file FILE          the cluster CA; default <data-dir>/tls/ca.crt when --data-dir is given,
                          else the CA the server presents, checked against the K10 token's hash
  --data-dir DIR          a server's data dir on this machine (CA, and the token if none is given)
  --nodes N               how many nodes (default 1)
  --name-prefix P         nodes are P-0 … P-(N-1) (default sim-<hostname>)
  --cpu Q                 capacity per node (default 8)
  --memory Q              (default 32Gi)
  --pods N                (default 110)
  --lease-interval S      seconds between Lease renewals (default 10)
  --status-interval S     seconds between node status updates (default 300, as a kubelet
                          reports an unchanged status; its Lease says it is alive)
  --log-level LEVEL       debug, info, warn (default), error

Stops on SIGINT/SIGTERM; the server's node lifecycle marks the nodes NotReady once their
Leases expire.`;

export async function simCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args, strict: true, allowPositionals: false,
    options: {
      server: { type: 'string', multiple: true }, token: { type: 'string' }, 'token-file': { type: 'string' },
      'ca-file': { type: 'string' }, 'data-dir': { type: 'string' },
      nodes: { type: 'string' }, 'name-prefix': { type: 'string' },
      cpu: { type: 'string' }, memory: { type: 'string' }, pods: { type: 'string' },
      'lease-interval': { type: 'string' }, 'status-interval': { type: 'string' },
      'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { console.log(HELP); return 0; }
  const server = splitServers(values.server ?? []);
  if (!server.length) throw new Error('--server is required');
  const token = (values.token ?? (values['token-file'] ? readFileSync(values['token-file'], 'utf8')
    : values['data-dir'] ? readFileSync(`${values['data-dir']}/token`, 'utf8') : '')).trim();
  if (!token) throw new Error('--token (or --token-file) is required');
  const nodes = Number(values.nodes ?? 1);
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`--nodes: must be a positive integer, not ${values.nodes}`);
  const pods = values.pods ?? '110';
  if (!/^\d+$/.test(pods)) throw new Error(`--pods: must be a whole number, not ${pods}`);
  const level = (values['log-level'] ?? 'warn') as Level;
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error('--log-level: must be debug, info, warn or error');
  const prefix = values['name-prefix'] ?? defaultNamePrefix();
  const seconds = (flag: string, v: string | undefined, dflt: number): number => {
    const n = Number(v ?? dflt);
    if (!(n > 0)) throw new Error(`--${flag}: must be a positive number of seconds, not ${v}`);
    return n * 1000;
  };

  const ca = await firstAnswer(server, (s) => resolveCa({ server: s, token, caFile: values['ca-file'], dataDir: values['data-dir'] }));
  const log = createLogger({ level, component: 'sim' });
  // 64 sockets: heartbeats (32 in flight) and pod writes (32) of many nodes share this client.
  const client = new HttpClient({ server, ca, token, fieldManager: 'skiff-sim', userAgent: 'skiff-sim', log: log.child('failover'), maxSockets: 64 });
  const stopLearning = learnApiServers(client, { log: log.child('failover') });
  const sim = new Simulator({
    client, nodes, namePrefix: prefix, log,
    resources: { cpu: values.cpu ?? '8', memory: values.memory ?? '32Gi', pods },
    leaseIntervalMs: seconds('lease-interval', values['lease-interval'], 10),
    statusIntervalMs: seconds('status-interval', values['status-interval'], 300),
  });
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = () => { stopping = true; resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const started = performance.now();
  await Promise.race([sim.start(), stopped]);
  if (!stopping) {
    const range = nodes === 1 ? `${prefix}-0` : `${prefix}-0..${nodes - 1}`;
    console.log(`skiff sim: ${nodes} node${nodes === 1 ? '' : 's'} ready (${range}) in ${Math.round(performance.now() - started)} ms`);
    await stopped;
  }
  sim.stop();
  stopLearning();
  client.close();
  // Requests cut short by close() settle at once; do not let a straggler keep us alive.
  setTimeout(() => process.exit(0), 2_000).unref();
  return 0;
}
