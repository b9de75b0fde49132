// The store's public entry: the contract, a driver registry (drivers register by name, as
// in k3s), and openStore, which picks a driver from the endpoint.
import { StoreError } from './types.ts';
import type { DatastoreTls, Store, StoreFactory } from './types.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

export * from './types.ts';
export { SqliteStore, databasePath } from './sqlite/sqlite-store.ts';
export type { SqliteStoreOptions } from './sqlite/sqlite-store.ts';
export { Compactor } from './sqlite/compactor.ts';
export type { CompactorOptions, CompactorTimers } from './sqlite/compactor.ts';
export { DatastoreLockedError, FutureRevisionError, StoreClosedError } from './sqlite/errors.ts';

export interface OpenStoreOptions {
  dataDir: string;
  /** Empty or `sqlite://`: the embedded store; `http(s)://…`: etcd. */
  endpoint?: string;
  /** Client TLS for etcd. */
  tls?: DatastoreTls;
}

export class UnknownDatastoreError extends StoreError {
  constructor(readonly endpoint: string, reason: string) { super(reason); }
}

const drivers = new Map<string, StoreFactory>();

/** Registers a driver; the returned function puts back whatever was registered before. */
export function registerStore(name: string, factory: StoreFactory): () => void {
  const previous = drivers.get(name);
  drivers.set(name, factory);
  return () => {
    if (previous) drivers.set(name, previous);
    else drivers.delete(name);
  };
}

export function registeredStores(): string[] {
  return [...drivers.keys()];
}

/** The driver name an endpoint asks for. */
export function driverFor(endpoint: string | undefined): string {
  const e = endpoint?.trim() ?? '';
  if (e === '' || e.startsWith('sqlite:')) return 'sqlite';
  if (/^https?:\/\//i.test(e)) return 'etcd';
  throw new UnknownDatastoreError(e, `unsupported datastore endpoint: ${e} (use sqlite:// or http(s):// for etcd)`);
}

export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const name = driverFor(opts.endpoint);
  const factory = drivers.get(name);
  if (!factory) {
    throw new UnknownDatastoreError(opts.endpoint ?? '',
      `no datastore driver registered for ${name}`);
  }
  return factory({ dataDir: opts.dataDir, endpoint: opts.endpoint, ...(opts.tls ? { tls: opts.tls } : {}) });
}

registerStore('sqlite', ({ dataDir }) => SqliteStore.open({ dataDir }));
// Imported only when asked for: the etcd client (gRPC, protobufs) costs start time and memory.
registerStore('etcd', async ({ endpoint, tls }) => (await import('./etcd/etcd-store.ts')).EtcdStore.open({ endpoint: endpoint!, ...tls }));
