// The generic registry: create, read, update, delete, list and watch for every resource,
// with the Kubernetes object semantics that do not depend on the kind (system metadata,
// optimistic concurrency, generation, finalizers and graceful deletion, namespace
// lifecycle, field validation). Kind-specific behaviour comes from the kind's strategy.
// Both the HTTP handlers and the in-process client call this; nothing writes around it.
// A resource served by conversion (ResourceInfo.conversion) is handled here too: bodies
// are checked against their own version's schema, converted to the storage version and
// written through the storage entry; what comes back is converted to the served version.
import { randomUUID } from 'node:crypto';
import type { KObject } from '../../api/object.ts';
import type { ResourceInfo } from '../../api/scheme.ts';
import { groupVersion, lookupResource, storageKey, STORED_RESOURCES } from '../../api/scheme.ts';
import type { KindStrategy } from '../../api/kinds/types.ts';
import { strategyFor } from '../../api/kinds/index.ts';
import { invalid as invalidField, type FieldError } from '../../api/field-error.ts';
import type { Store } from '../../store/types.ts';
import { KeyExistsError, KeyNotFoundError, RevisionConflictError, CompactedError } from '../../store/types.ts';
import { ApiError, alreadyExists, badRequest, conflict, forbidden, gone, invalid, notFound, staleObject } from '../errors.ts';
import { decode, encode, jsonEqual } from './codec.ts';
import { checkSchema, type FieldValidation } from './schema-check.ts';
import { recordManagedFields } from './managed-fields.ts';
import { admitPodPriority, type PriorityClassSource } from './priority.ts';
import { admitPodServiceAccount, type ServiceAccountSource } from '../serviceaccount/admission.ts';
import { admitLimitRanges } from '../admission/limitranger.ts';
import { admitResourceQuota, NamespaceLocks } from '../admission/resourcequota/admission.ts';
import { usageOf, type Usage } from '../admission/resourcequota/usage.ts';
import { admitDefaultIngressClass } from '../admission/default-ingress-class.ts';
import { setRequestor } from '../../api/kinds/certificatesigningrequest.ts';
import { admitPodSecurity, labelErrors as podSecurityLabelErrors, podTemplateOf } from '../admission/podsecurity/admission.ts';
import { allocateServiceAddresses, parseServiceCidr, ServiceAllocationLock, type ServiceRange } from './service-ips.ts';
import { WatchCache, type CachedObject } from '../watchcache/index.ts';
import { cacheFilter } from './watch.ts';
import { cacheSource, WebhookAdmission, writeAttributes } from '../admission/webhook/index.ts';
import type { UserInfo } from '../authn/types.ts';

export type { FieldValidation } from './schema-check.ts';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** Unknown-field handling; in-process callers leave it unset (Ignore). */
  fieldValidation?: FieldValidation;
  /** Warnings for the client (HTTP Warning headers). */
  warnings?: string[];
  /** status and finalize change only their part; binding may set spec.nodeName and status. */
  subresource?: 'status' | 'finalize' | 'binding' | 'approval';
  /** The caller hands the input over (a freshly decoded request body): no defensive copy. */
  inputOwned?: boolean;
  /** The authenticated caller, for admission webhooks (a controller's own identity in-process; unset: the API server). */
  user?: UserInfo;
}

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  /** The authenticated caller and where webhook warnings go (admission webhooks). */
  user?: UserInfo;
  warnings?: string[];
}

export interface ListQuery {
  labelSelector?: (labels: Record<string, string> | undefined) => boolean;
  fieldFilter?: (obj: KObject) => boolean;
  /** Set when the field selector pins metadata.name: lets the list skip other keys. */
  name?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_UPDATE_RETRIES = 10;
/** Finalizers the garbage collector understands (metav1 constants). */
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
export const FINALIZER_ORPHAN = 'orphan';

export class Registry {
  readonly store: Store;
  readonly watchCache: WatchCache;
  readonly #now: () => Date;
  /** The service CIDR cluster IPs come from (--service-cidr). */
  readonly serviceRange: ServiceRange;
  readonly #serviceLock = new ServiceAllocationLock();
  readonly #serviceAccountAdmission: boolean;
  readonly #quotaLocks = new NamespaceLocks();
  /** Mutating and validating admission webhooks, configured from the watch cache. */
  readonly #webhooks = new WebhookAdmission(cacheSource(this));

  constructor(store: Store, opts: {
    now?: () => Date; serviceCidr?: string;
    /**
     * Run the ServiceAccount admission on pod create (the server turns it on; unit tests
     * that create pods without a serviceaccount controller leave it off, as Kubernetes'
     * own integration framework does).
     */
    serviceAccountAdmission?: boolean;
  } = {}) {
    this.store = store;
    this.watchCache = new WatchCache(store);
    this.#now = opts.now ?? (() => new Date());
    this.serviceRange = parseServiceCidr(opts.serviceCidr);
    this.#serviceAccountAdmission = opts.serviceAccountAdmission ?? false;
  }

  strategy(r: ResourceInfo): KindStrategy {
    return strategyFor(r.group, r.kind);
  }

  /** The last second's RFC 3339 text: managedFields and timestamps are to the second. */
  #stampSecond = NaN;
  #stamp = '';

  #timestamp(): string {
    const now = this.#now().getTime();
    const second = Math.floor(now / 1000);
    if (second !== this.#stampSecond) {
      this.#stampSecond = second;
      this.#stamp = new Date(second * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    }
    return this.#stamp;
  }

  async get(r: ResourceInfo, ns: string | undefined, name: string): Promise<KObject> {
    if (r.conversion) return r.conversion.fromStorage(await this.get(r.conversion.storage, ns, name));
    const kv = await this.store.get(storageKey(r, ns, name));
    if (!kv) throw notFound(r, name);
    return decode(kv);
  }

  async tryGet(r: ResourceInfo, ns: string | undefined, name: string): Promise<KObject | undefined> {
    if (r.conversion) {
      const stored = await this.tryGet(r.conversion.storage, ns, name);
      return stored && r.conversion.fromStorage(stored);
    }
    const kv = await this.store.get(storageKey(r, ns, name));
    return kv && decode(kv);
  }

  // ---- list ---------------------------------------------------------------------------

  async list(r: ResourceInfo, ns: string | undefined, q: ListQuery = {}): Promise<ListResult> {
    if (r.conversion) {
      const c = r.conversion;
      const result = await this.list(c.storage, ns, q);
      return { ...result, items: result.items.map((o) => c.fromStorage(o)) };
    }
    const prefix = storageKey(r, ns);
    let revision = 0;
    let startKey: string | undefined;
    if (q.continue) {
      const token = parseContinue(q.continue, prefix);
      revision = token.rv;
      startKey = token.start;
    } else if (q.resourceVersion && q.resourceVersion !== '0' && q.resourceVersionMatch === 'Exact') {
      revision = parseRV(q.resourceVersion);
    }
    if (q.name !== undefined) {
      // A pinned name: one key to read (kubectl wait / rollout status ask this way).
      const key = r.namespaced && !ns ? undefined : storageKey(r, ns, q.name);
      if (key && !revision) {
        const kv = await this.store.get(key);
        const items = kv ? [decode(kv)].filter((o) => this.#matches(o, q)) : [];
        return { items, resourceVersion: String(await this.store.currentRevision()) };
      }
    }
    const limit = q.limit && q.limit > 0 ? q.limit : 0;
    const filtered = Boolean(q.labelSelector || q.fieldFilter || q.name !== undefined);
    const items: KObject[] = [];
    let readAt = revision;
    let next = startKey;
    for (;;) {
      let page;
      try {
        page = await this.store.list(prefix, { revision: readAt || undefined, limit: limit ? Math.max(limit, 100) : 0, startKey: next });
      } catch (err) {
        if (err instanceof CompactedError) {
          throw q.continue
            ? gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.')
            : gone(`too old resource version: ${readAt} (${err.compacted})`);
        }
        throw err;
      }
      readAt = page.revision;
      for (let i = 0; i < page.items.length; i++) {
        const kv = page.items[i];
        const obj = decode(kv);
        if (!this.#matches(obj, q)) continue;
        items.push(obj);
        if (limit && items.length === limit) {
          const more = i < page.items.length - 1 || page.more;
          if (!more) return { items, resourceVersion: String(readAt) };
          const nextKey = i < page.items.length - 1 ? page.items[i + 1].key : kv.key + '\x00';
          const remaining = filtered ? undefined : page.items.length - 1 - i + page.remaining;
          return { items, resourceVersion: String(readAt), continue: makeContinue(readAt, nextKey, prefix), remainingItemCount: remaining };
        }
      }
      if (!page.more) return { items, resourceVersion: String(readAt) };
      next = page.items[page.items.length - 1].key + '\x00';
    }
  }

  /**
   * A list served from the watch cache, as Kubernetes serves resourceVersion=0 (any
   * recent state, limit ignored) and consistent reads. Items are shared: read-only. A
   * consistent read with a limit gets its first page here and a continue token at the
   * cache's revision, whose later pages come from the store (list) at that revision.
   */
  async listFromCache(r: ResourceInfo, ns: string | undefined, q: ListQuery): Promise<CachedList> {
    if (r.conversion) {
      const c = r.conversion;
      const result = await this.listFromCache(c.storage, ns, q);
      return { ...result, items: result.items.map((item) => convertedCached(item, c.fromStorage)) };
    }
    const cache = await this.watchCache.for(r);
    if (q.resourceVersion !== '0') await cache.waitFor(await this.store.currentRevision());
    const revision = cache.revision;
    const limit = q.resourceVersion !== '0' && q.limit && q.limit > 0 ? q.limit : 0;
    const filtered = Boolean(q.labelSelector || q.fieldFilter || q.name !== undefined);
    const page = cache.page(cacheFilter(r, ns, q), limit, !filtered);
    const result: CachedList = { items: page.items, resourceVersion: String(revision) };
    if (page.next !== undefined) {
      result.continue = makeContinue(revision, page.next, storageKey(r, ns));
      result.remainingItemCount = page.rest;
    }
    return result;
  }

  #matches(obj: KObject, q: ListQuery): boolean {
    if (q.name !== undefined && obj.metadata.name !== q.name) return false;
    if (q.labelSelector && !q.labelSelector(obj.metadata.labels)) return false;
    if (q.fieldFilter && !q.fieldFilter(obj)) return false;
    return true;
  }

  // ---- create -------------------------------------------------------------------------

  async create(r: ResourceInfo, ns: string | undefined, input: KObject, opts: WriteOptions = {}): Promise<KObject> {
    if (r.conversion) {
      const c = r.conversion;
      const body = c.toStorage(this.#admitShape(r, ns, input, opts));
      return c.fromStorage(await this.create(c.storage, ns, body, { ...opts, fieldValidation: 'Ignore', inputOwned: true }));
    }
    // Allocating writes go one at a time, from reading what is taken to storing the result.
    if (isService(r)) return this.#serviceLock.run(() => this.#create(r, ns, input, opts));
    return this.#create(r, ns, input, opts);
  }

  async #create(r: ResourceInfo, ns: string | undefined, input: KObject, opts: WriteOptions): Promise<KObject> {
    const obj = this.#admitShape(r, ns, input, opts);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    meta.uid = randomUUID();
    meta.creationTimestamp = this.#timestamp();
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (r.namespaced) await this.#checkNamespaceOpen(ns!);
    // Admission in kube-apiserver's order: LimitRanger, ServiceAccount, then Priority.
    if (r.group === '' && r.kind === 'Pod') {
      // Most namespaces have no LimitRange: ask the cache without waiting first, and read
      // consistently only when there is one (pod creation is a hot path).
      const any = (await this.listFromCache(LIMIT_RANGES, ns, { resourceVersion: '0' })).items.length > 0;
      if (any) admitLimitRanges(obj, (await this.listFromCache(LIMIT_RANGES, ns, {})).items.map((c) => c.obj));
    }
    if (r.group === '' && r.kind === 'Pod' && this.#serviceAccountAdmission) await admitPodServiceAccount(obj, ns!, this.#serviceAccounts);
    if (r.group === '' && r.kind === 'Pod') await admitPodPriority(obj, this.#priorityClasses);
    if (r.group === 'networking.k8s.io' && r.kind === 'Ingress') {
      admitDefaultIngressClass(obj, (await this.listFromCache(INGRESS_CLASSES, undefined, {})).items.map((c) => c.obj));
    }
    if (r.group === 'certificates.k8s.io' && r.kind === 'CertificateSigningRequest') setRequestor(obj, opts.user);
    const strategy = this.strategy(r);
    strategy.defaults?.(obj);
    await this.#webhooks.mutate(writeAttributes('CREATE', r, ns, meta.name!, opts, obj, undefined, strategy));
    strategy.prepareForCreate?.(obj);
    this.#validate(r, obj, strategy.validate?.(obj) ?? []);
    await this.#admitPodSecurity(r, obj, opts);
    recordManagedFields({ r, old: undefined, updated: obj, manager: opts.fieldManager, now: this.#timestamp(), subresource: undefined });
    if (isService(r)) await this.#allocateService(r, obj, undefined);
    await this.#webhooks.validate(writeAttributes('CREATE', r, ns, meta.name!, opts, obj, undefined));
    // ResourceQuota last, as in kube-apiserver; a namespace with quotas takes creates one at a time.
    const quotas = r.namespaced ? (await this.listFromCache(RESOURCE_QUOTAS, ns, { resourceVersion: '0' })).items : [];
    if (!quotas.length) return this.#store(r, ns, obj, opts);
    return this.#quotaLocks.run(ns!, async () => {
      const current = (await this.listFromCache(RESOURCE_QUOTAS, ns, {})).items.map((c) => c.obj);
      await admitResourceQuota(r.resource, r.group, obj, current, (resource, group) => this.namespaceUsage(ns!, resource, group));
      return this.#store(r, ns, obj, opts);
    });
  }

  async #store(r: ResourceInfo, ns: string | undefined, obj: KObject, opts: WriteOptions): Promise<KObject> {
    const meta = obj.metadata;
    if (opts.dryRun) {
      if (await this.store.get(storageKey(r, ns, meta.name!))) throw alreadyExists(r, meta.name!);
      return obj;
    }
    try {
      const kv = await this.store.create(storageKey(r, ns, meta.name!), encode(obj));
      meta.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (err) {
      if (err instanceof KeyExistsError) throw alreadyExists(r, meta.name!);
      throw err;
    }
  }

  /** What a namespace's current objects of one resource count against quotas (read consistently). */
  async namespaceUsage(ns: string, resource: string, group: string): Promise<Usage> {
    const info = STORED_RESOURCES.find((x) => x.resource === resource && x.group === group);
    if (!info) return {};
    const total: Usage = {};
    for (const c of (await this.listFromCache(info, ns, {})).items) {
      for (const [k, v] of Object.entries(usageOf(resource, group, c.obj))) total[k] = (total[k] ?? 0) + v;
    }
    return total;
  }

  /** Checks apiVersion/kind/namespace of a request body and returns a working copy. */
  #admitShape(r: ResourceInfo, ns: string | undefined, input: KObject, opts: WriteOptions): KObject {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest('the body of the request was not a JSON object');
    const gv = groupVersion(r);
    if (input.apiVersion !== undefined && input.apiVersion !== gv) {
      throw badRequest(`the API version in the data (${input.apiVersion}) does not match the expected API version (${gv})`);
    }
    if (input.kind !== undefined && input.kind !== r.kind) {
      throw badRequest(`the kind in the data (${input.kind}) does not match the expected kind (${r.kind})`);
    }
    if (input.metadata !== undefined && (typeof input.metadata !== 'object' || input.metadata === null || Array.isArray(input.metadata))) {
      throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: json: cannot unmarshal ${Array.isArray(input.metadata) ? 'array' : typeof input.metadata} into Go struct field ${r.kind}.metadata of type v1.ObjectMeta`);
    }
    const obj = opts.inputOwned ? input : structuredClone(input);
    obj.apiVersion = gv;
    obj.kind = r.kind;
    obj.metadata ??= {};
    if (r.namespaced) {
      if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = ns;
    } else {
      delete obj.metadata.namespace;
    }
    checkSchema(r, obj, opts.fieldValidation ?? 'Ignore', opts.warnings);
    return obj;
  }

  #validate(r: ResourceInfo, obj: KObject, errors: FieldError[]): void {
    if (errors.length) throw invalid(r.kind, r.group, obj.metadata.name ?? obj.metadata.generateName ?? '', errors);
  }

  /** Cluster IP and node ports of a Service being written, against every other stored Service. */
  async #allocateService(r: ResourceInfo, obj: KObject, old: KObject | undefined): Promise<void> {
    const { namespace, name } = obj.metadata;
    const { items } = await this.listFromCache(r, undefined, {});
    const others = items.map((c) => c.obj).filter((o) => o.metadata.namespace !== namespace || o.metadata.name !== name);
    this.#validate(r, obj, allocateServiceAddresses(obj, old, others, this.serviceRange));
  }

  /** PriorityClasses for the Priority admission step of pod creation. */
  readonly #priorityClasses: PriorityClassSource = {
    get: (name) => this.tryGet(PRIORITY_CLASSES, undefined, name),
    // Every pod create asks for the globalDefault class: from the watch cache, not a store
    // list, and without waiting for it unless a default exists (Kubernetes reads a lister).
    list: async () => {
      const any = (await this.listFromCache(PRIORITY_CLASSES, undefined, { resourceVersion: '0' })).items.some((c) => c.obj.globalDefault === true);
      return any ? (await this.listFromCache(PRIORITY_CLASSES, undefined, {})).items.map((c) => c.obj) : [];
    },
  };

  /** ServiceAccounts for the ServiceAccount admission step of pod creation. */
  readonly #serviceAccounts: ServiceAccountSource = {
    get: (ns, name) => this.tryGet(SERVICE_ACCOUNTS, ns, name),
  };

  /** PodSecurity, after defaulting (as in kube-apiserver): pods and pod templates against their namespace's labels. */
  async #admitPodSecurity(r: ResourceInfo, obj: KObject, opts: WriteOptions): Promise<void> {
    if (r.group === '' && r.kind === 'Namespace') {
      const errs = podSecurityLabelErrors(obj.metadata.labels);
      if (errs.length) this.#validate(r, obj, errs.map((e) => invalidField(e.field, e.value, e.message)));
      return;
    }
    if (!r.namespaced || (r.kind !== 'Pod' && !podTemplateOf(r.kind, obj))) return;
    const nsObj = await this.tryGet(NAMESPACES, undefined, obj.metadata.namespace!);
    admitPodSecurity(r.kind, r.resource, obj, nsObj?.metadata.labels, opts.warnings);
  }

  async #checkNamespaceOpen(ns: string): Promise<void> {
    if (!ns) throw badRequest('a namespace must be specified for a namespaced resource');
    // An open namespace in the watch cache is enough (Kubernetes' NamespaceLifecycle reads
    // its informer too); missing or terminating there, the store has the last word.
    const cached = this.watchCache.peek(NAMESPACES)?.get(storageKey(NAMESPACES, undefined, ns))?.obj;
    if (cached && !cached.metadata.deletionTimestamp) return;
    const nsObj = await this.tryGet(NAMESPACES, undefined, ns);
    if (!nsObj) throw notFound(NAMESPACES, ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw forbidden(`unable to create new content in namespace ${ns} because it is being terminated`, {
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  // ---- update -------------------------------------------------------------------------

  /** PUT: replace the object (or its status), guarded by its resourceVersion when given. */
  async update(r: ResourceInfo, ns: string | undefined, name: string, input: KObject, opts: WriteOptions = {}): Promise<KObject> {
    const obj = this.#admitShape(r, ns, input, opts);
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    const wantRV = obj.metadata.resourceVersion;
    return this.guaranteedUpdate(r, ns, name, (current) => {
      if (wantRV && wantRV !== current.metadata.resourceVersion) throw staleObject(r, name);
      return structuredClone(obj);
    }, { ...opts, fieldValidation: 'Ignore' }, Boolean(wantRV));
  }

  /**
   * Read-modify-write with retries on conflicting writes (what Kubernetes calls
   * GuaranteedUpdate). `mutate` gets a copy of the current object and returns the new one.
   */
  async guaranteedUpdate(
    r: ResourceInfo, ns: string | undefined, name: string,
    mutate: (current: KObject) => KObject | Promise<KObject>,
    opts: WriteOptions = {}, pinned = false,
  ): Promise<KObject> {
    if (r.conversion) {
      // The caller changes the object as its own version; the storage entry does the rest.
      const c = r.conversion;
      const strict = opts.fieldValidation !== undefined && opts.fieldValidation !== 'Ignore';
      const stored = await this.guaranteedUpdate(c.storage, ns, name, async (current) => {
        const next = await mutate(c.fromStorage(current));
        return c.toStorage(strict ? this.#admitShape(r, ns, next, opts) : normalise(r, ns, next));
      }, { ...opts, fieldValidation: 'Ignore' }, pinned);
      return c.fromStorage(stored);
    }
    if (isService(r) && !opts.subresource) return this.#serviceLock.run(() => this.#guaranteedUpdate(r, ns, name, mutate, opts, pinned));
    return this.#guaranteedUpdate(r, ns, name, mutate, opts, pinned);
  }

  async #guaranteedUpdate(
    r: ResourceInfo, ns: string | undefined, name: string,
    mutate: (current: KObject) => KObject | Promise<KObject>,
    opts: WriteOptions, pinned: boolean,
  ): Promise<KObject> {
    const key = storageKey(r, ns, name);
    // The first try starts from the watch cache's copy when it has one (no store read, no
    // JSON.parse), as Kubernetes' GuaranteedUpdate starts from its cached object. The write
    // is a compare-and-swap on that copy's revision, so a stale copy costs one more try from
    // the store, never a lost update; so does any failure of the cached try (a precondition
    // or a no-op judged against a stale copy must be judged again against the store).
    // Services read the store: their update may share arrays with the old object.
    let cached = isService(r) ? undefined : this.watchCache.peek(r)?.get(key);
    for (let attempt = 0; ; attempt++) {
      const fromCache = cached !== undefined;
      let current: KObject;
      let revision: number;
      if (cached) {
        current = cached.obj; // shared with every reader of the cache: read only
        revision = cached.revision;
        cached = undefined;
      } else {
        const kv = await this.store.get(key);
        if (!kv) throw notFound(r, name);
        current = decode(kv);
        revision = kv.modRevision;
      }
      try {
        const next = await mutate(structuredClone(current));
        // `next` is ours to change (mutate got a private copy), so no second copy.
        const obj = opts.fieldValidation && opts.fieldValidation !== 'Ignore' ? this.#admitShape(r, ns, next, { ...opts, inputOwned: true }) : normalise(r, ns, next);
        await this.#webhooks.mutate(writeAttributes('UPDATE', r, ns, name, opts, obj, current, this.strategy(r)));
        const result = this.#prepareUpdate(r, current, obj, opts);
        if (!opts.subresource && attempt === 0) await this.#admitPodSecurity(r, result, opts);
        if (isService(r) && !opts.subresource) await this.#allocateService(r, result, current);
        await this.#webhooks.validate(writeAttributes('UPDATE', r, ns, name, opts, result, current));
        if (jsonEqual(stripRV(result), stripRV(current))) {
          // No-op: no new revision. From the cache, only if the store still has that copy.
          if (!fromCache) return current;
          const kv = await this.store.get(key);
          if (kv && kv.modRevision === revision) return decode(kv);
          attempt--; // again from the store; the cached try does not count
          continue;
        }
        if (opts.dryRun) return result;
        return await this.#commitUpdate(r, key, revision, result);
      } catch (err) {
        if (fromCache) { attempt--; continue; }
        if (err instanceof RevisionConflictError && !pinned && attempt < MAX_UPDATE_RETRIES) continue;
        if (err instanceof RevisionConflictError) throw staleObject(r, name);
        if (err instanceof KeyNotFoundError) throw notFound(r, name);
        throw err;
      }
    }
  }

  #prepareUpdate(r: ResourceInfo, current: KObject, obj: KObject, opts: WriteOptions): KObject {
    const strategy = this.strategy(r);
    const meta = obj.metadata;
    const old = current.metadata;
    // System-owned metadata always comes from the stored object.
    meta.name = old.name;
    meta.namespace = old.namespace;
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    meta.generation = old.generation;
    meta.resourceVersion = old.resourceVersion;
    meta.generateName = old.generateName ?? meta.generateName;
    if (old.deletionTimestamp) {
      meta.deletionTimestamp = old.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    if (meta.generateName === undefined) delete meta.generateName;
    if (meta.generation === undefined) delete meta.generation;

    const hasStatus = r.subresources.includes('status');
    if (opts.subresource === 'status' || opts.subresource === 'approval') {
      // Status writes change status only (ResetObjectMetaForStatus); a CSR's approval is a status write too.
      const status = obj.status;
      const keep = structuredClone(current);
      if (status === undefined) delete keep.status; else keep.status = status;
      keep.metadata.resourceVersion = old.resourceVersion;
      obj = keep;
    } else if (opts.subresource === 'finalize') {
      const spec = obj.spec;
      obj = structuredClone(current);
      obj.spec = spec;
    } else if (hasStatus && opts.subresource !== 'binding') {
      if (current.status === undefined) delete obj.status; else obj.status = structuredClone(current.status);
    }
    strategy.defaults?.(obj);
    strategy.prepareForUpdate?.(obj, current);
    // After defaulting, so a write that only omits defaulted fields is not a spec change.
    if (opts.subresource !== 'status' && specChanged(current, obj)) {
      obj.metadata.generation = (old.generation ?? 0) + 1;
    } else if (old.generation !== undefined) {
      obj.metadata.generation = old.generation;
    }
    const errors = [...(strategy.validate?.(obj) ?? [])];
    if (opts.subresource !== 'binding') errors.push(...(strategy.validateUpdate?.(obj, current) ?? []));
    this.#validate(r, obj, errors);
    recordManagedFields({ r, old: current, updated: obj, manager: opts.fieldManager, now: this.#timestamp(), subresource: opts.subresource });
    return obj;
  }

  async #commitUpdate(r: ResourceInfo, key: string, revision: number, obj: KObject): Promise<KObject> {
    // An object being deleted whose last finalizer is gone is deleted now.
    if (obj.metadata.deletionTimestamp && !hasFinalizers(r, obj) && !isGraceful(obj)) {
      const deleted = await this.store.delete(key, revision);
      const out = decode({ ...deleted, value: encode(obj) });
      return out;
    }
    const stored = await this.store.update(key, encode(obj), revision);
    obj.metadata.resourceVersion = String(stored.modRevision);
    return obj;
  }

  // ---- delete -------------------------------------------------------------------------

  /** Returns the object as it was deleted, or as it now stands while deletion waits on finalizers or grace. */
  async delete(r: ResourceInfo, ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ obj: KObject; pending: boolean }> {
    if (r.conversion) {
      const result = await this.delete(r.conversion.storage, ns, name, opts);
      return { ...result, obj: r.conversion.fromStorage(result.obj) };
    }
    const key = storageKey(r, ns, name);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(r, name);
      const current = decode(kv);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw conflict(r, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(r, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
      }
      if (attempt === 0) await this.#webhooks.delete(writeAttributes('DELETE', r, ns, name, opts, undefined, current));
      const next = structuredClone(current);
      const finalizers = new Set(next.metadata.finalizers ?? []);
      const policy = opts.propagationPolicy;
      if (policy === 'Foreground') { finalizers.add(FINALIZER_FOREGROUND); finalizers.delete(FINALIZER_ORPHAN); }
      if (policy === 'Orphan') { finalizers.add(FINALIZER_ORPHAN); finalizers.delete(FINALIZER_FOREGROUND); }
      if (policy === 'Background') { finalizers.delete(FINALIZER_ORPHAN); finalizers.delete(FINALIZER_FOREGROUND); }
      if (finalizers.size) next.metadata.finalizers = [...finalizers]; else delete next.metadata.finalizers;
      const grace = this.#gracePeriod(r, current, opts.gracePeriodSeconds);
      const pending = hasFinalizers(r, next) || grace > 0;
      try {
        if (!pending) {
          if (opts.dryRun) return { obj: current, pending: false };
          const deleted = await this.store.delete(key, kv.modRevision);
          return { obj: decode(deleted), pending: false };
        }
        if (!next.metadata.deletionTimestamp) {
          next.metadata.deletionTimestamp = new Date(this.#now().getTime() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
          next.metadata.deletionGracePeriodSeconds = grace;
          if (r.kind === 'Namespace') (next as { status?: Record<string, unknown> }).status = { ...(next.status as object), phase: 'Terminating' };
        } else if (grace < (current.metadata.deletionGracePeriodSeconds ?? 0)) {
          // A shorter grace period may replace a longer one (kubectl delete --now after a plain delete).
          next.metadata.deletionTimestamp = new Date(this.#now().getTime() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
          next.metadata.deletionGracePeriodSeconds = grace;
        }
        if (jsonEqual(next, current) || opts.dryRun) return { obj: opts.dryRun ? next : current, pending: true };
        if (!hasFinalizers(r, next) && !isGraceful(next)) {
          const deleted = await this.store.delete(key, kv.modRevision);
          return { obj: decode(deleted), pending: false };
        }
        return { obj: decode(await this.store.update(key, encode(next), kv.modRevision)), pending: true };
      } catch (err) {
        if (err instanceof RevisionConflictError && attempt < MAX_UPDATE_RETRIES) continue;
        if (err instanceof KeyNotFoundError) throw notFound(r, name);
        throw err;
      }
    }
  }

  /**
   * Pods bound to a node are deleted gracefully (the node's agent finishes the job);
   * everything else goes at once.
   */
  #gracePeriod(r: ResourceInfo, obj: KObject, requested: number | undefined): number {
    if (r.kind !== 'Pod' || r.group !== '') return 0;
    const spec = obj.spec as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
    if (!spec?.nodeName) return 0;
    const phase = (obj.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return 0;
    const grace = requested ?? spec.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, grace);
  }
}

const NAMESPACES = lookupResource('', 'v1', 'namespaces')!;
const LIMIT_RANGES = lookupResource('', 'v1', 'limitranges')!;
const RESOURCE_QUOTAS = lookupResource('', 'v1', 'resourcequotas')!;
const INGRESS_CLASSES = lookupResource('networking.k8s.io', 'v1', 'ingressclasses')!;
const PRIORITY_CLASSES = lookupResource('scheduling.k8s.io', 'v1', 'priorityclasses')!;
const SERVICE_ACCOUNTS = lookupResource('', 'v1', 'serviceaccounts')!;
const isService = (r: ResourceInfo): boolean => r.group === '' && r.kind === 'Service';

function normalise(r: ResourceInfo, ns: string | undefined, obj: KObject): KObject {
  obj.apiVersion = groupVersion(r);
  obj.kind = r.kind;
  obj.metadata ??= {};
  if (r.namespaced) obj.metadata.namespace = ns; else delete obj.metadata.namespace;
  return obj;
}

/** A cached object seen through a conversion; its JSON is made on first use. */
function convertedCached(item: CachedObject, convert: (o: KObject) => KObject): CachedObject {
  const obj = convert(item.obj);
  let json: string | undefined;
  return { key: item.key, revision: item.revision, obj, json: () => (json ??= JSON.stringify(obj)) };
}

function stripRV(obj: KObject): KObject {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = obj.metadata;
  return { ...obj, metadata: { ...meta, managedFields: undefined } } as KObject;
}

/** Anything outside metadata and status counts as spec for metadata.generation. */
function specChanged(a: KObject, b: KObject): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    if (!jsonEqual(a[k], b[k])) return true;
  }
  return false;
}

export function hasFinalizers(r: ResourceInfo, obj: KObject): boolean {
  if ((obj.metadata.finalizers?.length ?? 0) > 0) return true;
  if (r.kind === 'Namespace' && r.group === '') {
    return ((obj.spec as { finalizers?: string[] } | undefined)?.finalizers?.length ?? 0) > 0;
  }
  return false;
}

/** A pod waiting out its grace period (deletionGracePeriodSeconds > 0). */
function isGraceful(obj: KObject): boolean {
  return (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0;
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}

export function parseRV(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

/** A list from the watch cache (see listFromCache). */
export interface CachedList { items: CachedObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number }

function makeContinue(rv: number, nextKey: string, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: nextKey.slice(prefix.length) })).toString('base64url');
}

function parseContinue(token: string, prefix: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || t.start.includes('..')) throw new Error('bad token');
    return { rv: t.rv, start: prefix + t.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

export { ApiError };
