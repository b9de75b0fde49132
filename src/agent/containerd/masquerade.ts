// One MASQUERADE rule per node for pod traffic leaving the cluster's pod network, instead
// of the CNI bridge plugin's ipMasq, which adds a chain and rules for every pod (iptables
// runs under the xtables lock, so at sandbox creation it costs tens of milliseconds per
// pod and serialises parallel starts). Traffic to the whole cluster CIDR is not
// masqueraded, so pod-to-pod packets across nodes keep the pods' addresses (host-gw
// routes, network/routes.ts). The rule carries the CNI network's name in its comment, the
// marker killall removes our rules by, and by which an upgraded agent finds and drops the
// rules of older forms (`! -d <pod CIDR>`) and of older pod CIDRs.
import { Readable } from 'node:stream';
import { runTool, runToolWithInput } from './process.ts';

function comment(network: string): string {
  return `name: "${network}" pod traffic leaving the node`;
}

export function masqueradeRule(network: string, podCidr: string, clusterCidr: string): string[] {
  return [
    '-s', podCidr, '!', '-d', clusterCidr, '-m', 'addrtype', '!', '--dst-type', 'MULTICAST',
    '-m', 'comment', '--comment', comment(network),
    '-j', 'MASQUERADE',
  ];
}

/**
 * Lines of `iptables -S POSTROUTING` (nat) that are our masquerade rule but not the one we
 * want: an older form, or an older pod CIDR. Pure.
 */
export function staleMasqueradeRules(listing: string, network: string, podCidr: string, clusterCidr: string): string[] {
  const marker = `--comment "${comment(network).replaceAll('"', '\\"')}"`;
  const ownSource = new RegExp(`^-A POSTROUTING -s ${podCidr.replaceAll('.', '\\.')} ! -d ${clusterCidr.replaceAll('.', '\\.')} `);
  return listing.split('\n').filter((l) => l.startsWith('-A POSTROUTING ') && l.includes(marker) && !ownSource.test(l));
}

/** Adds the rule to nat POSTROUTING unless it is there already; drops our rules of other forms. */
export async function ensurePodMasquerade(network: string, podCidr: string, clusterCidr: string): Promise<void> {
  const rule = masqueradeRule(network, podCidr, clusterCidr);
  const present = await runTool('iptables', ['-w', '5', '-t', 'nat', '-C', 'POSTROUTING', ...rule]).then(() => true, () => false);
  if (!present) await runTool('iptables', ['-w', '5', '-t', 'nat', '-A', 'POSTROUTING', ...rule]);
  const listing = (await runTool('iptables', ['-w', '5', '-t', 'nat', '-S', 'POSTROUTING'])).stdout;
  const stale = staleMasqueradeRules(listing, network, podCidr, clusterCidr);
  if (stale.length) {
    const script = `*nat\n${stale.map((l) => '-D ' + l.slice(3)).join('\n')}\nCOMMIT\n`;
    await runToolWithInput('iptables-restore', ['--noflush', '-w', '5'], Readable.from([script]));
  }
}
