// Dynamic admission: calls the webhooks of MutatingWebhookConfigurations and
// ValidatingWebhookConfigurations for a write, as kube-apiserver's MutatingAdmissionWebhook
// and ValidatingAdmissionWebhook plugins do. Mutating webhooks run one after another in
// configuration-name order and their JSONPatch answers change the object; a webhook with
// reinvocationPolicy IfNeeded runs once more when a later webhook changed the object.
// Validating webhooks run in parallel on the final object. A denial becomes the webhook's
// status (at least 400); a failed call is a 500 unless the failurePolicy is Ignore.
import { randomUUID } from 'node:crypto';
import type { KObject } from '../../../api/object.ts';
import { ApiError, internalError, badRequest, type StatusReason } from '../../errors.ts';
import { applyJsonPatch, PatchError } from '../../patch/index.ts';
import { CallError, post, targetOf } from './client.ts';
import { isExempt, namespaceSelected, objectSelected, orderedWebhooks, rulesMatch } from './match.ts';
import { reviewRequest, responseOf, SUPPORTED_REVIEW_VERSIONS, type AdmissionResponse } from './review.ts';
import type { AdmissionAttributes, ConfiguredWebhook, WebhookSource } from './types.ts';

export interface WebhookLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export class WebhookAdmission {
  readonly #source: WebhookSource;
  readonly #log?: WebhookLog;

  constructor(source: WebhookSource, log?: WebhookLog) {
    this.#source = source;
    this.#log = log;
  }

  /** Runs the mutating webhooks; `a.object` is changed in place. */
  async mutate(a: AdmissionAttributes): Promise<void> {
    if (!this.#applies(a)) return;
    const candidates = orderedWebhooks(await this.#source.configurations('mutating')).filter((c) => rulesMatch(c.hook, a));
    if (!candidates.length) return;
    const keep = a.object && a.operation !== 'CONNECT' && systemFields(a.object);
    let prepared = false;
    let changedAny = false;
    const invokedReinvocable = new Set<string>();
    const reinvoke = new Set<string>();
    for (const pass of [0, 1]) {
      if (pass === 1 && !reinvoke.size) break;
      for (const c of candidates) {
        // A webhook skipped the first time is not called for the first time on reinvocation.
        if (pass === 1 && !reinvoke.has(c.uid)) continue;
        if (!(await this.#selected(c, a))) continue;
        if (!prepared && a.object) { a.prepare?.(a.object); prepared = true; }
        const changed = await this.#callMutating(c, a);
        changedAny ||= changed;
        if (pass === 1) continue;
        if (changed) { for (const uid of invokedReinvocable) reinvoke.add(uid); invokedReinvocable.clear(); }
        if (c.hook.reinvocationPolicy === 'IfNeeded') invokedReinvocable.add(c.uid);
      }
    }
    if (a.object && keep) restoreSystemFields(a.object, keep);
    // What a webhook added is defaulted like the rest (kube-apiserver decodes the patched object with defaulting).
    if (changedAny && a.object) a.prepare?.(a.object);
  }

  /** DELETE: mutating webhooks are called (they cannot change anything), then validating ones. */
  async delete(a: AdmissionAttributes): Promise<void> {
    await this.mutate(a);
    await this.validate(a);
  }

  /** Runs the validating webhooks (in parallel); throws the first denial or failure in webhook order. */
  async validate(a: AdmissionAttributes): Promise<void> {
    if (!this.#applies(a)) return;
    const candidates = orderedWebhooks(await this.#source.configurations('validating')).filter((c) => rulesMatch(c.hook, a));
    if (!candidates.length) return;
    const selected: ConfiguredWebhook[] = [];
    for (const c of candidates) if (await this.#selected(c, a)) selected.push(c);
    const results = await Promise.allSettled(selected.map((c) => this.#call(c, a, a.object)));
    let first: unknown;
    results.forEach((res, i) => {
      if (res.status === 'rejected') { first ??= res.reason; return; }
      const resp = res.value;
      if (!resp) return;
      a.warnings?.push(...(resp.warnings ?? []));
      if (!resp.allowed) first ??= denied(selected[i].hook.name, resp);
    });
    if (first !== undefined) throw first;
  }

  #applies(a: AdmissionAttributes): boolean {
    return !a.skip && !isExempt(a) && a.subresource !== 'binding';
  }

  async #selected(c: ConfiguredWebhook, a: AdmissionAttributes): Promise<boolean> {
    if (!objectSelected(c.hook, a)) return false;
    return namespaceSelected(c.hook, a, async (name) => (await this.#source.namespace(name))?.metadata.labels);
  }

  /** Returns whether the webhook changed the object. */
  async #callMutating(c: ConfiguredWebhook, a: AdmissionAttributes): Promise<boolean> {
    const resp = await this.#call(c, a, a.object);
    if (!resp) return false;
    a.warnings?.push(...(resp.warnings ?? []));
    if (!resp.allowed) throw denied(c.hook.name, resp);
    if (!resp.patch || !a.object) return false;
    if (resp.patchType !== 'JSONPatch') throw internalError(`admission webhook "${c.hook.name}" returned an unsupported patch type: ${JSON.stringify(resp.patchType ?? '')}`);
    let patched: unknown;
    try {
      const ops = JSON.parse(Buffer.from(resp.patch, 'base64').toString('utf8')) as unknown;
      patched = applyJsonPatch(a.object, ops);
    } catch (err) {
      const msg = err instanceof PatchError || err instanceof SyntaxError ? err.message : String(err);
      throw internalError(`admission webhook "${c.hook.name}" returned an invalid patch: ${msg}`);
    }
    if (!patched || typeof patched !== 'object' || Array.isArray(patched)) {
      throw internalError(`admission webhook "${c.hook.name}" returned a patch that does not produce an object`);
    }
    const next = patched as KObject;
    next.metadata ??= {};
    const changed = JSON.stringify(next) !== JSON.stringify(a.object);
    if (changed) replaceContents(a.object, next);
    return changed;
  }

  /** One call; undefined when it failed and the failurePolicy is Ignore. */
  async #call(c: ConfiguredWebhook, a: AdmissionAttributes, object: KObject | undefined): Promise<AdmissionResponse | undefined> {
    const hook = c.hook;
    if (a.dryRun && hook.sideEffects !== 'None' && hook.sideEffects !== 'NoneOnDryRun') {
      throw badRequest(`admission webhook "${hook.name}" does not support dry run`);
    }
    try {
      const version = (hook.admissionReviewVersions ?? []).find((v) => SUPPORTED_REVIEW_VERSIONS.includes(v));
      if (!version) throw new CallError(`webhook does not accept known AdmissionReview versions: ${JSON.stringify(hook.admissionReviewVersions ?? [])}`);
      const uid = randomUUID();
      const body = JSON.stringify(reviewRequest(version, uid, a, object));
      const target = await targetOf(hook, (ns, name, port) => this.#source.resolveService(ns, name, port));
      const answer = await post(target, hook.clientConfig.caBundle, body, (hook.timeoutSeconds ?? 10) * 1000);
      return responseOf(answer, version, uid);
    } catch (err) {
      if (!(err instanceof CallError)) throw err;
      if (hook.failurePolicy === 'Ignore') {
        this.#log?.warn('admission webhook failed, ignored by its failurePolicy', { webhook: hook.name, error: err.message });
        return undefined;
      }
      throw internalError(`failed calling webhook "${hook.name}": ${err.message}`);
    }
  }
}

/** kube-apiserver's wording and codes for a webhook that said no. */
function denied(name: string, resp: AdmissionResponse): ApiError {
  const s = resp.status ?? {};
  const code = typeof s.code === 'number' && s.code >= 400 ? s.code : 400;
  const by = `admission webhook "${name}" denied the request`;
  const message = s.message ? `${by}: ${s.message}` : s.reason ? `${by}: ${s.reason}` : `${by} without explanation`;
  return new ApiError(code, (s.reason ?? '') as StatusReason, message, s.details as ApiError['details']);
}

interface SystemFields { apiVersion: unknown; kind: unknown; meta: Record<string, unknown> }
const SYSTEM_META = ['name', 'namespace', 'uid', 'creationTimestamp', 'generation', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

function systemFields(obj: KObject): SystemFields {
  const meta: Record<string, unknown> = {};
  for (const k of SYSTEM_META) meta[k] = (obj.metadata as Record<string, unknown>)[k];
  return { apiVersion: obj.apiVersion, kind: obj.kind, meta };
}

/** Webhooks may not change what the server owns (identity, uid, timestamps). */
function restoreSystemFields(obj: KObject, keep: SystemFields): void {
  obj.apiVersion = keep.apiVersion as string;
  obj.kind = keep.kind as string;
  const meta = obj.metadata as Record<string, unknown>;
  for (const k of SYSTEM_META) {
    if (keep.meta[k] === undefined) delete meta[k]; else meta[k] = keep.meta[k];
  }
}

function replaceContents(target: KObject, source: KObject): void {
  for (const k of Object.keys(target)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, source);
}
