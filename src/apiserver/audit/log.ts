// Audit events (audit.k8s.io/v1 Event) written as JSON lines, one per stage, to a file
// or stdout ('-'), as kube-apiserver's --audit-log-path does. A request's record follows
// it from the moment it is authenticated to the moment its response ends.
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { AuditLevel, AuditPolicy, RequestAttributes, Stage } from './policy.ts';

export interface AuditRequest {
  attrs: RequestAttributes;
  requestURI: string;
  sourceIPs: string[];
  userAgent?: string;
  uid?: string;
  apiVersion?: string;
  longRunning: boolean;
}

export class AuditRecord {
  readonly level: AuditLevel;
  readonly #omit: Stage[];
  readonly #log: AuditLog;
  readonly #base: Record<string, unknown>;
  readonly #received = new Date();
  requestObject?: unknown;
  responseObject?: unknown;

  constructor(log: AuditLog, level: AuditLevel, omit: Stage[], r: AuditRequest) {
    this.#log = log;
    this.level = level;
    this.#omit = omit;
    const res = r.attrs.resource;
    this.#base = {
      kind: 'Event', apiVersion: 'audit.k8s.io/v1', level, auditID: randomUUID(),
      requestURI: r.requestURI, verb: r.attrs.verb,
      user: { username: r.attrs.user, ...(r.uid ? { uid: r.uid } : {}), groups: [...r.attrs.groups] },
      sourceIPs: r.sourceIPs, ...(r.userAgent ? { userAgent: r.userAgent } : {}),
      ...(res ? { objectRef: {
        resource: res.resource, ...(res.namespace ? { namespace: res.namespace } : {}), ...(res.name ? { name: res.name } : {}),
        apiGroup: res.group, ...(r.apiVersion ? { apiVersion: r.apiVersion } : {}), ...(res.subresource ? { subresource: res.subresource } : {}),
      } } : {}),
    };
    this.#emit('RequestReceived');
  }

  get wantsRequestBody(): boolean { return this.level === 'Request' || this.level === 'RequestResponse'; }
  get wantsResponseBody(): boolean { return this.level === 'RequestResponse'; }

  started(): void { this.#emit('ResponseStarted'); }

  /** The user an impersonating request acts as; on every stage after RequestReceived, as in Kubernetes. */
  set impersonatedUser(u: { name: string; groups: string[]; uid?: string; extra?: Record<string, string[]> }) {
    this.#base.impersonatedUser = { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: [...u.groups], ...(u.extra ? { extra: u.extra } : {}) };
  }

  complete(code: number, status?: { status?: string; reason?: string; message?: string }): void {
    this.#emit('ResponseComplete', { code, status });
  }

  #emit(stage: Stage, response?: { code: number; status?: { status?: string; reason?: string; message?: string } }): void {
    if (this.#omit.includes(stage)) return;
    const done = stage === 'ResponseComplete';
    this.#log.write({
      ...this.#base, stage,
      ...(response ? { responseStatus: { metadata: {}, code: response.code, ...(response.code >= 400 && response.status ? { status: response.status.status, reason: response.status.reason, message: response.status.message } : {}) } } : {}),
      ...(this.wantsRequestBody && this.requestObject !== undefined && stage !== 'RequestReceived' ? { requestObject: this.requestObject } : {}),
      ...(this.wantsResponseBody && done && this.responseObject !== undefined ? { responseObject: this.responseObject } : {}),
      requestReceivedTimestamp: this.#received.toISOString(),
      stageTimestamp: new Date().toISOString(),
    });
  }
}

export class AuditLog {
  readonly #policy: AuditPolicy;
  readonly #out: WriteStream | NodeJS.WriteStream;

  constructor(policy: AuditPolicy, file: string) {
    this.#policy = policy;
    if (file === '-') {
      this.#out = process.stdout;
    } else {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      this.#out = createWriteStream(file, { flags: 'a', mode: 0o600 });
    }
  }

  /** A record for a request, or undefined when the policy says None. */
  begin(r: AuditRequest): AuditRecord | undefined {
    const { level, omitStages } = this.#policy.evaluate(r.attrs);
    return level === 'None' ? undefined : new AuditRecord(this, level, omitStages, r);
  }

  write(event: Record<string, unknown>): void {
    if (this.#out.writableEnded) return; // a request (or in-process call) finishing after close()
    this.#out.write(`${JSON.stringify(event)}\n`);
  }

  close(): Promise<void> {
    if (this.#out === process.stdout) return Promise.resolve();
    return new Promise((resolve) => (this.#out as WriteStream).end(() => resolve()));
  }
}
