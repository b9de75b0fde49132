import { KUBERNETES_VERSION } from '../apiserver/server.ts';
import { SKIFF_VERSION } from '../version.ts';

export async function versionCommand(): Promise<number> {
  console.log(`skiff version v${SKIFF_VERSION}`);
  console.log(`kubernetes api ${KUBERNETES_VERSION.gitVersion.replace(/-skiff$/, '')}`);
  console.log(`node ${process.version}`);
  return 0;
}
