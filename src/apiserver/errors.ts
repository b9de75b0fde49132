// One error class for everything the API answers with a failure, turned into a
// Kubernetes Status in one place (the HTTP boundary). Constructors mirror apimachinery's
// errors package: the same reasons, codes and message shapes kubectl prints.
import type { FieldError } from '../api/field-error.ts';
import { formatFieldError } from '../api/field-error.ts';

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict'
  | 'Gone' | 'Expired' | 'Invalid' | 'MethodNotAllowed' | 'NotAcceptable' | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType' | 'InternalError' | 'Timeout' | 'ServiceUnavailable' | 'TooManyRequests';

export interface StatusCause { reason?: string; message?: string; field?: string }

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(readonly code: number, readonly reason: StatusReason, message: string, readonly details?: StatusDetails) {
    super(message);
  }

  toStatus(): Status {
    const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** "pods" or "deployments.apps": how Kubernetes names a resource in messages. */
export interface ResourceName { group: string; resource: string }
const qualified = (r: ResourceName): string => (r.group ? `${r.resource}.${r.group}` : r.resource);

export const notFound = (r: ResourceName, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, group: r.group || undefined, kind: r.resource });

export const alreadyExists = (r: ResourceName, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, { name, group: r.group || undefined, kind: r.resource });

export const conflict = (r: ResourceName, name: string, detail: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${detail}`, { name, group: r.group || undefined, kind: r.resource });

export const staleObject = (r: ResourceName, name: string): ApiError =>
  conflict(r, name, 'the object has been modified; please apply your changes to the latest version and try again');

/** 422 with field causes; `kind` is the Kind (e.g. Pod), as Kubernetes prints it. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const list = errors.map(formatFieldError);
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${summary}`, {
    name, group: group || undefined, kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);
export const unauthorized = (): ApiError => new ApiError(401, 'Unauthorized', 'Unauthorized');
export const forbidden = (message: string, details?: StatusDetails): ApiError => new ApiError(403, 'Forbidden', message, details);
export const methodNotAllowed = (message = 'the server does not allow this method on the requested resource'): ApiError =>
  new ApiError(405, 'MethodNotAllowed', message);
export const notAcceptable = (message: string): ApiError => new ApiError(406, 'NotAcceptable', message);
export const gone = (message: string): ApiError => new ApiError(410, 'Expired', message);
export const tooLarge = (message = 'Request entity too large: limit is 3145728'): ApiError => new ApiError(413, 'RequestEntityTooLarge', message);
export const unsupportedMediaType = (contentType: string): ApiError =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml${contentType ? ` (got ${contentType})` : ''}`);
export const internalError = (message: string): ApiError => new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);

/** The datastore cannot answer (etcd without quorum): 503, or 504 when a request timed out. Clients may retry. */
export const datastoreUnavailable = (message: string, timeout: boolean): ApiError => timeout
  ? new ApiError(504, 'Timeout', message, { retryAfterSeconds: 1 })
  : new ApiError(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 });

export function successStatus(details?: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}
