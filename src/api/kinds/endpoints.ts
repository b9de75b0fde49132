// Endpoints (core/v1): addresses must be IPs, ports valid; the table lists ip:port pairs.
import { invalid, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isDNS1123Label, isIP, validatePortNumber, validateProtocol } from '../validation/index.ts';
import { num, objs, setDefault, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

function validateEndpoints(ep: KObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(ep.subsets).forEach((ss, i) => {
    const at = `subsets[${i}]`;
    for (const list of ['addresses', 'notReadyAddresses']) {
      objs(ss[list]).forEach((a, j) => {
        const ip = str(a.ip);
        if (!ip) errs.push(required(`${at}.${list}[${j}].ip`));
        else if (!isIP(ip)) errs.push(invalid(`${at}.${list}[${j}].ip`, ip, 'must be a valid IP address'));
      });
    }
    const ports = objs(ss.ports);
    ports.forEach((p, j) => {
      const name = str(p.name);
      if (ports.length > 1 && !name) errs.push(required(`${at}.ports[${j}].name`));
      if (name) errs.push(...isDNS1123Label(name).map((m) => invalid(`${at}.ports[${j}].name`, name, m)));
      errs.push(...validatePortNumber(`${at}.ports[${j}].port`, p.port), ...validateProtocol(`${at}.ports[${j}].protocol`, p.protocol));
    });
  });
  return errs;
}

/** "10.0.0.1:80,10.0.0.2:80 + 3 more..." — addresses per port, at most three shown. */
export function formatEndpoints(ep: KObject): string {
  const subsets = objs(ep.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addresses = objs(ss.addresses).map((a) => str(a.ip));
    const ports = objs(ss.ports);
    // Headless services may have addresses without ports.
    const pairs = ports.length === 0
      ? addresses
      : ports.flatMap((p) => addresses.map((ip) => (ip.includes(':') ? `[${ip}]:${num(p.port)}` : `${ip}:${num(p.port)}`)));
    count += pairs.length;
    for (const pair of pairs) if (list.length < 3) list.push(pair);
  }
  const shown = list.join(',');
  return count > 3 ? `${shown} + ${count - 3} more...` : shown;
}

export const endpointsKind: KindDefinition = {
  defaults(ep) {
    for (const ss of objs(ep.subsets)) for (const p of objs(ss.ports)) setDefault(p, 'protocol', 'TCP');
  },
  validate: validateEndpoints,
  table: {
    columns: [col('Endpoints', 'string', 0, 'Endpoints of the service'), AGE],
    cells: (ep, now) => [formatEndpoints(ep), since(ep.metadata.creationTimestamp, now)],
  },
};
