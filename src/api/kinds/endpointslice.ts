// EndpointSlice (discovery.k8s.io): addressType required and fixed, 1-100 addresses per
// endpoint, port defaults; the table shows ports and addresses, three at most.
import { invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { isDNS1123Label, isIPv4, isIPv6, validatePortNumber, validateProtocol } from '../validation/index.ts';
import { arr, objs, setDefault, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { listWithMore, since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

function validateSlice(slice: KObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(slice.addressType);
  if (!type) errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) errs.push(notSupported('addressType', type, ADDRESS_TYPES));
  objs(slice.endpoints).forEach((e, i) => {
    const addresses = arr(e.addresses).map(String);
    if (addresses.length === 0) errs.push(required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
    else if (addresses.length > 100) errs.push({ type: 'FieldValueTooMany', field: `endpoints[${i}].addresses`, message: `Too many: ${addresses.length}: must have at most 100 items` });
    addresses.forEach((a, j) => {
      const ok = type === 'IPv4' ? isIPv4(a) : type === 'IPv6' ? isIPv6(a) : true;
      if (!ok) errs.push(invalid(`endpoints[${i}].addresses[${j}]`, a, `must be a valid ${type} address`));
    });
  });
  objs(slice.ports).forEach((p, i) => {
    const name = str(p.name);
    if (name) errs.push(...isDNS1123Label(name).map((m) => invalid(`ports[${i}].name`, name, m)));
    errs.push(...validatePortNumber(`ports[${i}].port`, p.port, false), ...validateProtocol(`ports[${i}].protocol`, p.protocol));
  });
  return errs;
}

export const endpointSliceKind: KindDefinition = {
  defaults(slice) {
    for (const p of objs(slice.ports)) {
      setDefault(p, 'name', '');
      setDefault(p, 'protocol', 'TCP');
    }
  },
  validate: validateSlice,
  validateUpdate: (slice, old) => (slice.addressType === old.addressType ? [] : [invalid('addressType', slice.addressType, 'field is immutable')]),
  table: {
    columns: [
      col('AddressType', 'string', 0, 'The type of addresses this slice holds.'),
      col('Ports', 'string', 0, 'Ports of the endpoint slice.'),
      col('Endpoints', 'string', 0, 'Addresses of the endpoints.'),
      AGE,
    ],
    cells(slice, now) {
      const ports = objs(slice.ports).map((p) => (typeof p.port === 'number' ? String(p.port) : str(p.name) || '*'));
      const addresses = objs(slice.endpoints).flatMap((e) => arr(e.addresses).map(String));
      return [str(slice.addressType), listWithMore(ports, 3, '<unset>'), listWithMore(addresses, 3, '<unset>'), since(slice.metadata.creationTimestamp, now)];
    },
  },
};
