export { startKubeletServer, AgentError, WEBSOCKET_REFUSED } from './server.ts';
export { ensureAgentServingCert, type ServingCert } from './serving-cert.ts';
export { streamCriLog, parseCriLogLine, type LogReadOptions, type CriLogEntry } from './cri-log.ts';
export { proxyUpgrade, isWebSocketUpgrade, writeRawResponse } from './upgrade-proxy.ts';
export type { ContainerRef, PodStreamBackend, StreamFlags, KubeletServer, KubeletServerOptions } from './types.ts';
