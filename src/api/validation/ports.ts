// Port numbers, port names and protocols, shared by Pods, Services, Endpoints and friends.
import { invalid, notSupported, required, type FieldError } from '../field-error.ts';
import { inclusiveRangeError, isValidPortName } from './names.ts';

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

export function isValidPortNum(port: unknown): boolean {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** A port number 1-65535; `Required value` when absent or 0, as Kubernetes treats a zero int. */
export function validatePortNumber(field: string, port: unknown, isRequired = true): FieldError[] {
  if (port === undefined || port === null || port === 0) return isRequired ? [required(field)] : [];
  return isValidPortNum(port) ? [] : [invalid(field, port, inclusiveRangeError(1, 65535))];
}

export function validatePortName(field: string, name: string): FieldError[] {
  return isValidPortName(name).map((msg) => invalid(field, name, msg));
}

export function validateProtocol(field: string, protocol: unknown): FieldError[] {
  if (protocol === undefined || protocol === null || protocol === '') return [required(field)];
  return PROTOCOLS.includes(protocol as string) ? [] : [notSupported(field, protocol, PROTOCOLS)];
}

/** An int-or-string port reference: a number 1-65535 or a port name. */
export function validatePortNumOrName(field: string, port: unknown): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port) ? [] : [invalid(field, port, inclusiveRangeError(1, 65535))];
  if (typeof port === 'string') return validatePortName(field, port);
  return [invalid(field, port, 'must be a port number or name')];
}
