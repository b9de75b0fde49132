export { startKubeletServer, AgentError } from './server.ts';
export { ensureAgentServingCert, type ServingCert } from './serving-cert.ts';
export { streamCriLog, parseCriLogLine, type LogReadOptions, type CriLogEntry } from './cri-log.ts';
export { proxyUpgrade, isWebSocketUpgrade, websocketRefusal, writeRawResponse } from '../../util/upgrade-proxy.ts';
export type { ContainerRef, PodStreamBackend, StreamFlags, KubeletServer, KubeletServerOptions } from './types.ts';
