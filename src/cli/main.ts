// `skiff` commands: parse flags, build a config, call run(config). No logic here.
// Each command is imported when it runs: `skiff agent` never loads the API server's code.

const USAGE = `usage: skiff <command> [flags]

commands:
  server     run the API server, store and controllers (a single-node cluster)
  kubectl    run kubectl against this machine's cluster (uses <data-dir>/kubeconfig.yaml)
  agent      join this machine to a cluster as a node (containerd + runc)
  killall    stop an agent's containers and clean up what it left on the machine
  token      create, list and delete join tokens for agents
  certificate  check expiry of, or rotate, the cluster's certificates
  secrets-encrypt  status and key rotation for Secrets encrypted at rest
  datastore  snapshot save|restore of the datastore (SQLite or etcd)
  sim        join N simulated nodes to a cluster (for testing the control plane at scale)
  version    print the versions of skiff and of the Kubernetes API it serves

run 'skiff <command> --help' for a command's flags`;

const commands: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  server: async () => (await import('./server.ts')).serverCommand,
  version: async () => (await import('./version.ts')).versionCommand,
  kubectl: async () => (await import('./kubectl.ts')).kubectlCommand,
  sim: async () => (await import('./sim.ts')).simCommand,
  agent: async () => (await import('./agent.ts')).agentCommand,
  killall: async () => (await import('./agent.ts')).killallCommand,
  token: async () => (await import('./token.ts')).tokenCommand,
  certificate: async () => (await import('./certificate.ts')).certificateCommand,
  'secrets-encrypt': async () => (await import('./secrets-encrypt.ts')).secretsEncryptCommand,
  datastore: async () => (await import('./datastore.ts')).datastoreCommand,
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
  process.exitCode = await (await command())(args);
} catch (err) {
  console.error(`skiff ${name}: ${(err as Error).message}`);
  process.exitCode = 1;
}
