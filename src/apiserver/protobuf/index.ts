// Decodes application/vnd.kubernetes.protobuf request bodies into plain JSON objects.
import { readEnvelope } from './envelope.ts';
import { rootMessage } from './kinds.ts';
import { decodeMessage } from './message.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** Returns `{ apiVersion, kind, metadata, ... }` with Kubernetes JSON field names. */
export function decodeProtobufObject(buf: Uint8Array): Record<string, unknown> {
  const env = readEnvelope(buf);
  if (env.contentEncoding !== '') {
    throw new Error(`protobuf: content encoding "${env.contentEncoding}" is not supported; send JSON`);
  }
  const type = rootMessage(env.apiVersion, env.kind);
  if (!type) {
    throw new Error(`protobuf encoding is not supported for ${env.apiVersion || '<none>'}/${env.kind || '<none>'}; send JSON`);
  }
  return { apiVersion: env.apiVersion, kind: env.kind, ...decodeMessage(type, env.raw) };
}
