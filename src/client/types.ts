// The contract every client speaks: one resource's verbs (ResourceInterface), a way to get
// one (ApiClient), and one error class. The in-process client and the HTTP client both
// implement it, so informers and controllers do not care which side of HTTP they are on.
import type { KObject } from '../api/object.ts';
import type { Status, StatusDetails, StatusReason } from '../apiserver/errors.ts';

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continue?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take fields other managers own. */
  force?: boolean;
  subresource?: 'status';
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** `pending` when deletion waits on finalizers or a grace period (HTTP 202). */
export interface DeleteResult {
  obj: KObject | undefined;
  pending: boolean;
}

export interface WatchOptions {
  /** Start after this version; '' or '0' (or none) starts with ADDED events for everything. */
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  allowWatchBookmarks?: boolean;
  /** Ask the server to end the watch after this long (HTTP only). */
  timeoutSeconds?: number;
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: KObject }
  | { type: 'ERROR'; object: Status };

export interface WatchHandle {
  /** Stops the stream; onEnd is not called for a close the caller asked for. */
  close(): void;
}

export interface ResourceInterface {
  get(ns: string | undefined, name: string): Promise<KObject>;
  /** Like get, but undefined instead of a 404. */
  tryGet(ns: string | undefined, name: string): Promise<KObject | undefined>;
  list(ns: string | undefined, opts?: ListOptions): Promise<ListResult>;
  create(obj: KObject, opts?: WriteOptions): Promise<KObject>;
  update(obj: KObject, opts?: WriteOptions): Promise<KObject>;
  updateStatus(obj: KObject, opts?: WriteOptions): Promise<KObject>;
  patch(ns: string | undefined, name: string, type: PatchType, body: unknown, opts?: PatchOptions): Promise<KObject>;
  delete(ns: string | undefined, name: string, opts?: DeleteOptions): Promise<DeleteResult>;
  /**
   * Resolves once the stream is open (rejects with ClientError if the server refused it).
   * Events arrive in order; onEnd runs once when the stream ends by itself, with the
   * error if it broke.
   */
  watch(ns: string | undefined, opts: WatchOptions, onEvent: (ev: WatchEvent) => void, onEnd?: (err?: Error) => void): Promise<WatchHandle>;
}

/** Anything that hands out ResourceInterfaces: HttpClient, InProcessClient.api(). */
export interface ApiClient {
  /** `opts.requestTimeoutMs`: see HttpClient's ResourceOptions (in-process calls have none). */
  resource(group: string, version: string, resource: string, opts?: { requestTimeoutMs?: number }): ResourceInterface;
}

/** A failed API call, from the server's Status (code 0 when there was no response). */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly code: number,
    readonly reason: StatusReason | string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  static fromStatus(s: Partial<Status>, fallbackCode = 500): ClientError {
    const code = typeof s.code === 'number' && s.code > 0 ? s.code : fallbackCode;
    return new ClientError(code, s.reason ?? reasonForCode(code), s.message ?? `the server answered ${code}`, s.details);
  }
}

/** The reason Kubernetes uses for a status code when the body does not say. */
export function reasonForCode(code: number): StatusReason | 'Unknown' {
  const byCode: Record<number, StatusReason> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
    406: 'NotAcceptable', 409: 'Conflict', 410: 'Expired', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType',
    422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
  };
  return byCode[code] ?? 'Unknown';
}

/** The HTTP-ish code of any error a client throws (ClientError or the registry's ApiError). */
export function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export const isNotFound = (err: unknown): boolean => errorCode(err) === 404;
export const isConflict = (err: unknown): boolean => errorCode(err) === 409;
export const isGone = (err: unknown): boolean => errorCode(err) === 410;
export const isAlreadyExists = (err: unknown): boolean => (err as { reason?: unknown } | null)?.reason === 'AlreadyExists';
