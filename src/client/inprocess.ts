// The in-process client: components inside the server talk to the registry directly,
// skipping HTTP but not validation, admission or watch. It speaks the same
// ResourceInterface as the HTTP client (see inprocess-resource.ts).
import { lookupKind, parseApiVersion } from '../api/scheme.ts';
import { InProcessApi, InProcessResource } from './inprocess-resource.ts';

export class InProcessClient extends InProcessApi {
  /** By apiVersion and kind ("apps/v1", "Deployment"). */
  kind(apiVersion: string, kind: string): InProcessResource {
    const { group, version } = parseApiVersion(apiVersion);
    const r = lookupKind(group, version, kind);
    if (!r) throw new Error(`no resource for ${apiVersion} ${kind}`);
    return this.resource(group, version, r.resource);
  }

  /** The shared client contract, for informers (the client itself already is one). */
  api(): InProcessApi {
    return this;
  }
}
