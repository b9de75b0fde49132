// CertificateSigningRequest approver and signer (kube-controller-manager's csrapproving
// and csrsigning, as one controller): a pending node-client request whose requestor may
// `create certificatesigningrequests/nodeclient` (or `/selfnodeclient` when renewing its
// own name) is approved (kubelet TLS bootstrap, as kubeadm and k3s set it up), and so is a
// node's request for a serving certificate for its own name and addresses; an
// approved request for one of our signers gets a certificate signed by the cluster CA,
// or a Failed condition when it breaks that signer's rules. Writes go through the
// registry's approval and status subresources; the key is the CSR's name.
import type { KObject } from '../../api/object.ts';
import { lookupResource } from '../../api/scheme.ts';
import { csrConditions, decodeBytes } from '../../api/kinds/certificatesigningrequest.ts';
import type { UserInfo } from '../../apiserver/authn/types.ts';
import type { Attributes } from '../../apiserver/authz/types.ts';
import { parseRequest, signRequest, type ParsedRequest } from '../../apiserver/certificates/x509.ts';
import type { Registry } from '../../apiserver/registry/registry.ts';
import type { Informer } from '../../client/informer.ts';
import { WorkQueue } from '../../client/workqueue.ts';
import { Wakeups } from '../job/wakeups.ts';
import { deleteAt } from './cleaner.ts';
import { logSyncError, type Controller, type ControllerContext } from '../types.ts';
import { KUBELET_SERVING_SIGNER, NODE_CLIENT_SIGNER, NODE_USER_PREFIX, NODES_GROUP, notKubeletServing, notNodeClient, signerRefusal, SIGNERS } from './recognize.ts';

const CSRS = lookupResource('certificates.k8s.io', 'v1', 'certificatesigningrequests')!;
/** kube-controller-manager's --cluster-signing-duration default. */
export const DEFAULT_SIGNING_DURATION_MS = 365 * 24 * 3600 * 1000;

export interface CsrControllerOptions {
  registry: Registry;
  ca: { certPem: string; keyPem: string };
  /** A SubjectAccessReview for the requestor (the server's authorizer). */
  authorize(a: Attributes): Promise<boolean>;
  signingDurationMs?: number;
}

export class CsrController implements Controller {
  readonly name = 'csr';
  readonly #opts: CsrControllerOptions;
  #ctx!: ControllerContext;
  #csrs!: Informer;
  #nodes!: Informer;
  #queue?: WorkQueue;
  #unsubscribe?: () => void;
  readonly #wakeups = new Wakeups((key) => this.#queue?.add(key));

  constructor(opts: CsrControllerOptions) {
    this.#opts = opts;
  }

  start(ctx: ControllerContext): void {
    this.#ctx = ctx;
    this.#csrs = ctx.informers.informer('certificates.k8s.io', 'v1', 'certificatesigningrequests');
    this.#nodes = ctx.informers.informer('', 'v1', 'nodes');
    const queue = this.#queue = new WorkQueue((key) => this.sync(key), { concurrency: 4, onError: logSyncError(ctx.log, 'csr sync failed', 'csr') });
    this.#unsubscribe = this.#csrs.addEventHandler({
      onAdd: (c) => queue.add(c.metadata.name!),
      onUpdate: (_o, c) => queue.add(c.metadata.name!),
      onDelete: (c) => this.#wakeups.cancel(c.metadata.name!),
    });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#queue?.stop();
    this.#wakeups.stop();
  }

  async sync(name: string): Promise<void> {
    const csr = this.#csrs.getByName(undefined, name);
    if (!csr) return;
    const spec = (csr.spec ?? {}) as Record<string, unknown>;
    const signerName = String(spec.signerName ?? '');
    const cond = csrConditions(csr);
    // csrcleaner: finished requests go after an hour, pending ones after a day (cleaner.ts).
    const wait = deleteAt(csr) - this.#ctx.now();
    if (wait <= 0) { await this.#opts.registry.delete(CSRS, undefined, name, { preconditions: { uid: csr.metadata.uid } }).catch((err) => { if ((err as { code?: number }).code !== 404) throw err; }); return; }
    this.#wakeups.after(name, Math.min(wait, 2 ** 31 - 1));
    if (!SIGNERS.includes(signerName)) return; // someone else's signer
    if (cond.Denied || cond.Failed || (csr.status as Record<string, unknown> | undefined)?.certificate) return;
    const pem = decodeBytes(spec.request)?.toString('latin1') ?? '';
    let req: ParsedRequest;
    try {
      req = await parseRequest(pem);
    } catch (err) {
      if (cond.Approved) await this.#fail(csr, `could not parse the request: ${(err as Error).message}`);
      return;
    }
    const usages = Array.isArray(spec.usages) ? spec.usages as string[] : [];
    if (!cond.Approved) {
      if (signerName === NODE_CLIENT_SIGNER && await this.#mayAutoApprove(spec, req, usages)) await this.#approve(csr, 'Auto approving kubelet client certificate after SubjectAccessReview.');
      else if (signerName === KUBELET_SERVING_SIGNER && this.#ownServingRequest(spec, req, usages)) await this.#approve(csr, 'Auto approving kubelet serving certificate for the node\'s own name and addresses.');
      return;
    }
    const refusal = signerRefusal(signerName, req, usages);
    if (refusal) { await this.#fail(csr, refusal); return; }
    const requested = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds * 1000 : Infinity;
    const certPem = await signRequest({
      ca: this.#opts.ca, requestPem: pem, usages, now: new Date(this.#ctx.now()),
      durationMs: Math.min(requested, this.#opts.signingDurationMs ?? DEFAULT_SIGNING_DURATION_MS),
    });
    await this.#write(csr, 'status', { ...(csr.status as object), certificate: Buffer.from(certPem).toString('base64') });
    this.#ctx.log.info('certificate issued', { csr: name, subject: `CN=${req.commonName}`, signer: signerName });
  }

  /** kube-controller-manager's sarapprove: node client requests, by permission of the requestor. */
  async #mayAutoApprove(spec: Record<string, unknown>, req: ParsedRequest, usages: string[]): Promise<boolean> {
    if (notNodeClient(req, usages) || !req.signatureValid) return false;
    const user: UserInfo = {
      name: String(spec.username ?? ''), uid: typeof spec.uid === 'string' ? spec.uid : undefined,
      groups: Array.isArray(spec.groups) ? spec.groups as string[] : [],
    };
    if (!user.name) return false;
    const check = (subresource: string) => this.#opts.authorize({
      user, verb: 'create', resourceRequest: true, path: '', apiGroup: 'certificates.k8s.io', apiVersion: 'v1',
      resource: 'certificatesigningrequests', subresource, namespace: '', name: '',
    });
    if (user.name === req.commonName && await check('selfnodeclient')) return true;
    return check('nodeclient');
  }

  /**
   * A node asking, as itself, for a serving certificate with its own name: DNS names only the
   * node name, and no IP address another Node reports (its own may be new: the agent asks
   * before it registers or updates its addresses). The API server checks agents against the CA.
   */
  #ownServingRequest(spec: Record<string, unknown>, req: ParsedRequest, usages: string[]): boolean {
    const groups = Array.isArray(spec.groups) ? spec.groups as string[] : [];
    if (spec.username !== req.commonName || !groups.includes(NODES_GROUP) || notKubeletServing(req, usages) || !req.signatureValid) return false;
    const nodeName = req.commonName.slice(NODE_USER_PREFIX.length);
    if (req.dnsNames.some((d) => d !== nodeName.toLowerCase())) return false;
    const taken = new Set<string>();
    for (const node of this.#nodes.list()) {
      if (node.metadata.name === nodeName) continue;
      for (const a of ((node.status ?? {}) as { addresses?: { address?: string }[] }).addresses ?? []) if (a.address) taken.add(a.address);
    }
    return req.ipAddresses.every((ip) => ip === '127.0.0.1' || ip === '::1' || !taken.has(ip));
  }

  async #approve(csr: KObject, message: string): Promise<void> {
    const status = (csr.status ?? {}) as Record<string, unknown>;
    const conditions = [...(Array.isArray(status.conditions) ? status.conditions : []), {
      type: 'Approved', status: 'True', reason: 'AutoApproved', message,
    }];
    await this.#write(csr, 'approval', { ...status, conditions });
    this.#ctx.log.info('certificate request approved', { csr: csr.metadata.name, requestor: (csr.spec as Record<string, unknown>).username });
  }

  async #fail(csr: KObject, message: string): Promise<void> {
    const status = (csr.status ?? {}) as Record<string, unknown>;
    const conditions = [...(Array.isArray(status.conditions) ? status.conditions : []), {
      type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message,
    }];
    await this.#write(csr, 'status', { ...status, conditions });
    this.#ctx.log.warn('certificate request failed', { csr: csr.metadata.name, message });
  }

  #write(csr: KObject, subresource: 'status' | 'approval', status: Record<string, unknown>): Promise<KObject> {
    const fieldManager = subresource === 'approval' ? 'certificatesigningrequest-approving-controller' : 'certificatesigningrequest-signing-controller';
    return this.#opts.registry.update(CSRS, undefined, csr.metadata.name!, { ...csr, status }, { subresource, fieldManager });
  }
}
