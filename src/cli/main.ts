// `skiff` commands: parse flags, build a config, call run(config). No logic here.
import { serverCommand } from './server.ts';
import { versionCommand } from './version.ts';
import { kubectlCommand } from './kubectl.ts';
import { simCommand } from './sim.ts';
import { agentCommand, killallCommand } from './agent.ts';

const USAGE = `usage: skiff <command> [flags]

commands:
  server     run the API server, store and controllers (a single-node cluster)
  kubectl    run kubectl against this machine's cluster (uses <data-dir>/kubeconfig.yaml)
  agent      join this machine to a cluster as a node (containerd + runc)
  killall    stop an agent's containers and clean up what it left on the machine
  sim        join N simulated nodes to a cluster (for testing the control plane at scale)
  version    print the versions of skiff and of the Kubernetes API it serves

run 'skiff <command> --help' for a command's flags`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  server: serverCommand,
  version: versionCommand,
  kubectl: kubectlCommand,
  sim: simCommand,
  agent: agentCommand,
  killall: killallCommand,
};

const [name, ...args] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  console.log(USAGE);
  process.exit(name ? 0 : 2);
}
const command = commands[name];
if (!command) {
  const later = ['compose'].includes(name);
  console.error(later ? `skiff ${name}: not available in this version yet` : `skiff: unknown command "${name}"\n\n${USAGE}`);
  process.exit(2);
}
try {
  process.exitCode = await command(args);
} catch (err) {
  console.error(`skiff ${name}: ${(err as Error).message}`);
  process.exitCode = 1;
}
