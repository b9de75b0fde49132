// pods/log, pods/exec, pods/attach and pods/portforward: the API server finds the pod's node
// and relays to that node's agent (its kubelet-like server, src/agent/server), as
// kube-apiserver does with the kubelet (pkg/registry/core/pod/strategy.go: LogLocation,
// ExecLocation, AttachLocation, PortForwardLocation).
//
// Logs are a streamed GET. exec, attach and port-forward are connection upgrades, passed
// through byte for byte to the agent. The agent passes SPDY/3.1 and WebSocket channel
// protocols up to v4.channel.k8s.io on to containerd's CRI streaming server, and serves
// kubectl's WebSocket v5.channel.k8s.io (exec, attach) itself, translating it to SPDY towards
// containerd (src/agent/server/stream-translator.ts). A WebSocket upgrade offering only
// protocols neither speaks (SPDY/3.1+portforward.k8s.io tunnelling, v1-v3) is refused with
// 400 and kubectl falls back to SPDY (client-go's FallbackExecutor and fallbackDialer fall
// back on any upgrade failure).
//
// The agent is reached over HTTPS with a client certificate signed by the cluster CA; the
// agent's own serving certificate is not verified (like kube-apiserver without
// --kubelet-certificate-authority).
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KObject } from '../../api/object.ts';
import { lookupResource } from '../../api/scheme.ts';
import { invalid as invalidField, type FieldError } from '../../api/field-error.ts';
import { ApiError, badRequest, invalid, type StatusReason } from '../errors.ts';
import type { Registry } from '../registry/registry.ts';
import type { ResourceRequest } from '../request-info.ts';
import { isWebSocketUpgrade, proxyUpgrade, websocketRefusal, writeRawResponse } from '../../util/upgrade-proxy.ts';
import type { HandlerContext } from './resource.ts';

/** The client certificate the API server presents to node agents. */
export interface KubeletClientConfig {
  certPem: string;
  keyPem: string;
  /** The cluster CA: agents' serving certificates must chain to it (kube-apiserver's --kubelet-certificate-authority). Unverified without it. */
  caPem?: string;
}

export type PodStreamSubresource = 'log' | 'exec' | 'attach' | 'portforward';
const STREAMS = new Set<string>(['log', 'exec', 'attach', 'portforward']);

export function isPodStreamRequest(info: ResourceRequest): boolean {
  return info.resource.group === '' && info.resource.resource === 'pods' && info.name !== undefined && STREAMS.has(info.subresource ?? '');
}

const PODS = lookupResource('', 'v1', 'pods')!;
const NODES = lookupResource('', 'v1', 'nodes')!;
const DEFAULT_KUBELET_PORT = 10250;

type Any = Record<string, any>;
const specOf = (pod: KObject): Any => (pod.spec ?? {}) as Any;
const statusOf = (pod: KObject): Any => (pod.status ?? {}) as Any;
const names = (list: Any[] | undefined): string[] => (list ?? []).map((c) => String(c.name));

/** The container a request means: the only one when none is named (kube-apiserver's rules). */
export function chooseContainer(pod: KObject, requested: string | undefined): string {
  const name = pod.metadata.name!;
  const spec = specOf(pod);
  if (!requested) {
    const containers = names(spec.containers);
    if (containers.length === 1) return containers[0]!;
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    const init = names(spec.initContainers);
    if (init.length) message += ` or one of the init containers: [${init.join(' ')}]`;
    throw badRequest(message);
  }
  const all = [...names(spec.containers), ...names(spec.initContainers), ...names(spec.ephemeralContainers)];
  if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/**
 * The kubelet's check before reading logs (validateContainerLogStatus), made here from the
 * pod's reported status: a container that never started has no log to show.
 */
export function checkLogStatus(pod: KObject, container: string, previous: boolean): void {
  const podName = pod.metadata.name!;
  const st = statusOf(pod);
  const all: Any[] = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? []), ...(st.ephemeralContainerStatuses ?? [])];
  const cs = all.find((c) => c.name === container);
  if (!cs) throw badRequest(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
  const state: Any = cs.state ?? {};
  const last: Any = cs.lastState ?? {};
  if (previous) {
    if (!last.terminated) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return;
  }
  if (state.running || state.terminated || last.terminated) return;
  if (state.waiting) {
    const reason = String(state.waiting.reason ?? '');
    if (reason === 'ErrImagePull') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
    if (reason === 'ImagePullBackOff') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  }
  throw badRequest(`container "${container}" in pod "${podName}" is waiting to start - no logs yet`);
}

/** Where a node's agent listens: InternalIP (else Hostname, else ExternalIP) and the kubelet endpoint port. */
export async function agentAddress(registry: Registry, nodeName: string): Promise<string> {
  const node = await registry.get(NODES, undefined, nodeName);
  const st = statusOf(node);
  const addresses: { type?: string; address?: string }[] = st.addresses ?? [];
  const pick = (type: string) => addresses.find((a) => a.type === type && a.address)?.address;
  const host = pick('InternalIP') ?? pick('Hostname') ?? pick('ExternalIP');
  if (!host) {
    throw new ApiError(500, 'InternalError', `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`);
  }
  const port = Number(st.daemonEndpoints?.kubeletEndpoint?.Port) || DEFAULT_KUBELET_PORT;
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function boolOf(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '' || v === 'false' || v === '0' || v === 'False') return false;
  if (v === 'true' || v === '1' || v === 'True') return true;
  throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}: must be true or false`);
}

function intOf(q: URLSearchParams, name: string, errs: FieldError[]): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) { errs.push(invalidField(name, v, 'must be an integer')); return undefined; }
  return Number(v);
}

/** PodLogOptions from the query, checked as ValidatePodLogOptions does; the kubelet's query out. */
export function logQuery(podName: string, q: URLSearchParams): { agentQuery: URLSearchParams; previous: boolean } {
  const errs: FieldError[] = [];
  const out = new URLSearchParams();
  for (const b of ['follow', 'previous', 'timestamps']) if (boolOf(q, b)) out.set(b, 'true');
  const tailLines = intOf(q, 'tailLines', errs);
  const limitBytes = intOf(q, 'limitBytes', errs);
  const sinceSeconds = intOf(q, 'sinceSeconds', errs);
  const sinceTime = q.get('sinceTime');
  if (tailLines !== undefined && tailLines < 0) errs.push(invalidField('tailLines', tailLines, 'must be greater than or equal to 0'));
  if (limitBytes !== undefined && limitBytes < 1) errs.push(invalidField('limitBytes', limitBytes, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push(invalidField('sinceSeconds', sinceSeconds, 'must be greater than 0'));
  if (sinceSeconds !== undefined && sinceTime) errs.push({ type: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (sinceTime && Number.isNaN(Date.parse(sinceTime))) errs.push(invalidField('sinceTime', sinceTime, 'must be an RFC 3339 time'));
  if (errs.length) throw invalid('PodLogOptions', '', podName, errs);
  if (sinceSeconds !== undefined) out.set('sinceSeconds', String(sinceSeconds));
  if (sinceTime) out.set('sinceTime', new Date(Date.parse(sinceTime)).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (tailLines !== undefined) out.set('tailLines', String(tailLines));
  if (limitBytes !== undefined) out.set('limitBytes', String(limitBytes));
  return { agentQuery: out, previous: out.has('previous') };
}

/** The agent URL for an exec, attach or port-forward (kube-apiserver's streamParams). */
async function connectLocation(registry: Registry, info: ResourceRequest, q: URLSearchParams): Promise<URL> {
  const pod = await registry.get(PODS, info.namespace, info.name!);
  const name = pod.metadata.name!;
  const ns = pod.metadata.namespace!;
  const params = new URLSearchParams();
  let path: string;
  if (info.subresource === 'portforward') {
    const ports: string[] = [];
    for (const v of q.getAll('ports')) {
      for (const p of v.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw badRequest(`invalid port ${JSON.stringify(p)}`);
        ports.push(p);
      }
    }
    if (ports.length) params.set('port', ports.join(','));
    path = `/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
  } else {
    const stdin = boolOf(q, 'stdin');
    const stdout = boolOf(q, 'stdout');
    const stderr = boolOf(q, 'stderr');
    const tty = boolOf(q, 'tty');
    const command = q.getAll('command');
    if (info.subresource === 'exec' && !command.length) throw badRequest('you must specify at least one command for the container');
    if (!stdin && !stdout && !stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
    const container = chooseContainer(pod, q.get('container') || undefined);
    if (stdin) params.append('input', '1');
    if (stdout) params.append('output', '1');
    if (stderr) params.append('error', '1');
    if (tty) params.append('tty', '1');
    for (const c of command) params.append('command', c);
    path = `/${info.subresource}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`;
  }
  const nodeName = specOf(pod).nodeName as string | undefined;
  if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  const base = await agentAddress(registry, nodeName);
  const query = params.toString();
  return new URL(`${base}${path}${query ? `?${query}` : ''}`);
}

/** Decodes an agent's error answer (a Status, or plain text as the kubelet writes) into an ApiError. */
export function agentError(code: number, body: string): ApiError {
  let message = body.trim();
  let reason: StatusReason | undefined;
  try {
    const s = JSON.parse(body);
    if (s && s.kind === 'Status' && typeof s.message === 'string') { message = s.message; reason = s.reason; }
  } catch { /* plain text */ }
  if (code === 400) return badRequest(message);
  if (code === 404) return new ApiError(404, 'NotFound', message);
  if (code === 500) return new ApiError(500, 'InternalError', message);
  return new ApiError(code >= 400 && code < 600 ? code : 500, reason && reason !== 'BadRequest' ? reason : 'InternalError', message);
}

function kubeletTls(client: KubeletClientConfig | undefined) {
  // Agents serve with a certificate the cluster CA signed for their name and address (kubelet-serving CSR).
  return { cert: client?.certPem, key: client?.keyPem, ca: client?.caPem, rejectUnauthorized: client?.caPem !== undefined };
}

/** pods/log: a streamed GET relayed from the agent, flushed as it arrives. */
async function serveLog(ctx: HandlerContext): Promise<void> {
  const { info, registry } = ctx;
  const pod = await registry.get(PODS, info.namespace, info.name!);
  const name = pod.metadata.name!;
  const { agentQuery, previous } = logQuery(name, ctx.query);
  const container = chooseContainer(pod, ctx.query.get('container') || undefined);
  const nodeName = specOf(pod).nodeName as string | undefined;
  if (!nodeName) {
    // kube-apiserver answers an unscheduled pod's log with an empty stream.
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
    ctx.res.end();
    return;
  }
  checkLogStatus(pod, container, previous);
  const base = await agentAddress(registry, nodeName);
  const q = agentQuery.toString();
  const target = new URL(`${base}/containerLogs/${encodeURIComponent(pod.metadata.namespace!)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${q ? `?${q}` : ''}`);

  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = https.request(target, { method: 'GET', agent: false, ...kubeletTls(ctx.kubeletClient) }, resolve);
    req.on('error', (err) => reject(new ApiError(500, 'InternalError', `Get "${target.href}": ${err.message}`)));
    ctx.res.once('close', () => req.destroy());
    req.end();
  });
  if (upstream.statusCode !== 200) {
    let body = '';
    upstream.setEncoding('utf8');
    for await (const chunk of upstream) { body += chunk; if (body.length > 64 * 1024) break; }
    upstream.destroy();
    throw agentError(upstream.statusCode ?? 500, body);
  }
  ctx.res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  ctx.res.flushHeaders();
  ctx.res.on('close', () => upstream.destroy());
  await new Promise<void>((resolve) => {
    upstream.on('data', (chunk: Buffer) => {
      if (!ctx.res.write(chunk)) { upstream.pause(); ctx.res.once('drain', () => upstream.resume()); }
    });
    upstream.on('end', () => { ctx.res.end(); resolve(); });
    upstream.on('error', () => { ctx.res.destroy(); resolve(); });
    upstream.on('close', () => { if (!ctx.res.writableEnded) ctx.res.end(); resolve(); });
  });
}

/** pods/log and the plain (non-upgrade) requests for the connect subresources. */
export async function handlePodStream(ctx: HandlerContext): Promise<void> {
  const method = ctx.req.method ?? 'GET';
  if (ctx.info.subresource === 'log') {
    if (method !== 'GET' && method !== 'HEAD') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    return serveLog(ctx);
  }
  if (method !== 'GET' && method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  // Without an upgrade there is nothing to relay (kube-apiserver's UpgradeAwareHandler says the same).
  await ctx.registry.get(PODS, ctx.info.namespace, ctx.info.name!);
  throw badRequest('Upgrade request required');
}

export interface UpgradeContext {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  info: ResourceRequest;
  query: URLSearchParams;
  registry: Registry;
  kubeletClient?: KubeletClientConfig;
}

/** pods/exec, pods/attach, pods/portforward upgrades: checked here, then passed through to the agent. */
export async function handlePodStreamUpgrade(u: UpgradeContext): Promise<void> {
  const { req, info } = u;
  if (info.subresource === 'log') throw badRequest('pods/log does not support upgrades');
  if (req.method !== 'GET' && req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  // Refused here, before the agent is contacted, when the runtime cannot take it (the agent checks again).
  if (isWebSocketUpgrade(req)) {
    const refused = websocketRefusal(req, info.subresource as 'exec' | 'attach' | 'portforward');
    if (refused) throw badRequest(refused);
    if (req.method !== 'GET') throw badRequest(`a WebSocket upgrade must be a GET, not ${req.method}`);
  }
  const target = await connectLocation(u.registry, info, u.query);
  const t = kubeletTls(u.kubeletClient);
  try {
    await proxyUpgrade(req, u.socket, u.head, target, { tls: { certPem: t.cert, keyPem: t.key, caPem: t.ca } });
  } catch (err) {
    throw new ApiError(500, 'InternalError', `error dialing backend: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Answers an upgrade that will not happen with a Status, on the raw socket. */
export function refuseUpgrade(socket: Duplex, err: ApiError): void {
  writeRawResponse(socket, err.code, 'application/json', JSON.stringify(err.toStatus()));
}
