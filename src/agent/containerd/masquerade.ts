// One MASQUERADE rule per node for traffic leaving the pod CIDR, instead of the CNI bridge
// plugin's ipMasq, which adds a chain and rules for every pod (iptables runs under the
// xtables lock, so at sandbox creation it costs tens of milliseconds per pod and
// serialises parallel starts). The rule carries the CNI network's name in its comment,
// the marker killall removes our rules by.
import { runTool } from './process.ts';

export function masqueradeRule(network: string, podCidr: string): string[] {
  return [
    '-s', podCidr, '!', '-d', podCidr, '-m', 'addrtype', '!', '--dst-type', 'MULTICAST',
    '-m', 'comment', '--comment', `name: "${network}" pod traffic leaving the node`,
    '-j', 'MASQUERADE',
  ];
}

/** Adds the rule to nat POSTROUTING unless it is there already; drops the rule of an older pod CIDR. */
export async function ensurePodMasquerade(network: string, podCidr: string, previousCidr?: string): Promise<void> {
  const rule = masqueradeRule(network, podCidr);
  const present = await runTool('iptables', ['-w', '5', '-t', 'nat', '-C', 'POSTROUTING', ...rule]).then(() => true, () => false);
  if (!present) await runTool('iptables', ['-w', '5', '-t', 'nat', '-A', 'POSTROUTING', ...rule]);
  if (previousCidr && previousCidr !== podCidr) {
    await runTool('iptables', ['-w', '5', '-t', 'nat', '-D', 'POSTROUTING', ...masqueradeRule(network, previousCidr)]).catch(() => {});
  }
}
