// CertificateSigningRequest (certificates.k8s.io/v1): what kubelet TLS bootstrap and
// `kubectl certificate approve` use. The requestor (spec.username, uid, groups, extra) is
// set by the server from the authenticated user, never by the client; the spec is fixed
// after create; Approved and Denied exclude each other and, once set, stay; a certificate
// is issued only to an approved request and is never changed. Signing is done by
// src/controllers/csr/, which reads the PEM request with @peculiar/x509; here the request
// is only checked to be one PEM CERTIFICATE REQUEST block holding well-formed DER, so
// validation stays synchronous and cheap.
import { duplicate, forbidden, invalid, notSupported, required, type FieldError } from '../field-error.ts';
import type { KObject } from '../object.ts';
import { invalidRendered } from '../validation/index.ts';
import { arr, jsonEqual, obj, objs, str } from './access.ts';
import { AGE, col } from './columns.ts';
import { humanDuration, since } from './format.ts';
import type { KindDefinition } from './strategy.ts';

/** Key usages Kubernetes accepts in spec.usages (certificates.KeyUsage). */
export const KEY_USAGES = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement',
  'data encipherment', 'cert sign', 'crl sign', 'encipher only', 'decipher only', 'any',
  'server auth', 'client auth', 'code signing', 'email protection', 's/mime',
  'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing',
  'microsoft sgc', 'netscape sgc',
];

const CONDITION_TYPES = ['Approved', 'Denied', 'Failed'];

/** The authenticated user, as the registry knows it (kept structural to avoid an import cycle). */
export interface Requestor { name: string; uid?: string; groups: string[]; extra?: Record<string, string[]> }

/** Sets spec.username/uid/groups/extra from who created the request (kube-apiserver's PrepareForCreate). */
export function setRequestor(csr: KObject, user: Requestor | undefined): void {
  if (!user) return;
  const spec = csr.spec && typeof csr.spec === 'object' ? csr.spec as Record<string, unknown> : (csr.spec = {}) as Record<string, unknown>;
  spec.username = user.name;
  if (user.uid) spec.uid = user.uid; else delete spec.uid;
  spec.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length) spec.extra = user.extra; else delete spec.extra;
}

/** The PEM text inside a base64 []byte field, or undefined if it does not decode. */
export function decodeBytes(v: unknown): Buffer | undefined {
  if (typeof v !== 'string') return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return undefined;
  return Buffer.from(v, 'base64');
}

/** The DER of the first PEM block of the given type, or an error in Go's words. */
export function pemBlock(pem: string, type: string): { der: Buffer } | { error: string } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) return { error: 'PEM block type must be ' + type };
  if (m[1] !== type) return { error: 'PEM block type must be ' + type };
  return { der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') };
}

/** Length of a DER TLV at `at`, or -1 when malformed; enough to reject garbage. */
function tlvEnd(der: Buffer, at: number): number {
  if (at + 2 > der.length) return -1;
  let len = der[at + 1]!;
  let off = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || off + n > der.length) return -1;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[off + i]!;
    off += n;
  }
  return off + len;
}

/** A CertificationRequest is SEQUENCE { SEQUENCE info, SEQUENCE algorithm, BIT STRING signature }. */
export function wellFormedCsrDer(der: Buffer): boolean {
  if (der[0] !== 0x30 || tlvEnd(der, 0) !== der.length) return false;
  let at = 2 + ((der[1]! & 0x80) ? der[1]! & 0x7f : 0);
  const want = [0x30, 0x30, 0x03];
  for (const tag of want) {
    if (der[at] !== tag) return false;
    at = tlvEnd(der, at);
    if (at < 0) return false;
  }
  return at === der.length;
}

function goBytes(b: Buffer): string {
  const shown = [...b.subarray(0, 32)].map((x) => `0x${x.toString(16)}`).join(', ');
  return `[]byte{${shown}${b.length > 32 ? ', ...' : ''}}`;
}

function validateRequest(spec: Record<string, unknown>): FieldError[] {
  if (spec.request === undefined || spec.request === '') return [required('spec.request')];
  const bytes = decodeBytes(spec.request);
  if (!bytes) return [invalid('spec.request', spec.request, 'must be base64-encoded PEM')];
  const block = pemBlock(bytes.toString('latin1'), 'CERTIFICATE REQUEST');
  if ('error' in block) return [invalidRendered('spec.request', goBytes(bytes), block.error)];
  if (!wellFormedCsrDer(block.der)) return [invalidRendered('spec.request', goBytes(bytes), 'asn1: structure error: not a valid PKCS#10 certificate request')];
  return [];
}

/** signerName must be a domain-qualified path: `example.com/some-signer` (ValidateSignerName). */
function validateSignerName(v: unknown): FieldError[] {
  const name = str(v);
  if (!name) return [required('spec.signerName')];
  const parts = name.split('/');
  if (parts.length < 2) return [invalid('spec.signerName', name, 'must be a fully qualified domain and path of the form \'example.com/signer-name\'')];
  const domain = parts[0]!;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(domain) || !domain.includes('.')) {
    return [invalid('spec.signerName', name, 'should be a domain with at least two segments separated by dots')];
  }
  if (parts.slice(1).some((p) => !p)) return [invalid('spec.signerName', name, 'validating path segments: must not contain empty segments')];
  return [];
}

function validateUsages(v: unknown): FieldError[] {
  const usages = arr(v);
  if (!usages.length) return [required('spec.usages')];
  const errs: FieldError[] = [];
  const seen = new Set<unknown>();
  usages.forEach((u, i) => {
    if (!KEY_USAGES.includes(u as string)) errs.push(notSupported(`spec.usages[${i}]`, u, KEY_USAGES));
    else if (seen.has(u)) errs.push(duplicate(`spec.usages[${i}]`, u));
    seen.add(u);
  });
  return errs;
}

function validateConditions(status: Record<string, unknown>): FieldError[] {
  const errs: FieldError[] = [];
  const types = new Set<string>();
  objs(status.conditions).forEach((c, i) => {
    const at = `status.conditions[${i}]`;
    const type = str(c.type);
    if (!type) errs.push(required(`${at}.type`));
    else if (types.has(type) && CONDITION_TYPES.includes(type)) errs.push(duplicate(`${at}.type`, type));
    types.add(type);
    const s = str(c.status);
    if (!['True', 'False', 'Unknown'].includes(s)) errs.push(notSupported(`${at}.status`, c.status ?? '', ['False', 'True', 'Unknown']));
    else if ((type === 'Approved' || type === 'Denied') && s !== 'True') errs.push(notSupported(`${at}.status`, s, ['True']));
  });
  if (types.has('Approved') && types.has('Denied')) errs.push(invalid('status.conditions', 'Approved', 'Approved and Denied conditions are mutually exclusive'));
  return errs;
}

export function csrConditions(csr: KObject): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const c of objs(obj(csr.status).conditions)) if (str(c.status) === 'True' || c.status === undefined) out[str(c.type)] = c;
  return out;
}

function conditionCell(csr: KObject): string {
  const cond = csrConditions(csr);
  const parts = ['Approved', 'Denied', 'Failed'].filter((t) => cond[t]);
  if (str(obj(csr.status).certificate)) parts.push('Issued');
  return parts.length ? parts.join(',') : 'Pending';
}

export const certificateSigningRequestKind: KindDefinition = {
  defaults(csr) {
    for (const c of objs(obj(csr.status).conditions)) if (c.status === undefined || c.status === '') c.status = 'True';
  },
  prepareForCreate(csr) {
    csr.status = {};
  },
  prepareForUpdate(csr, old) {
    // The spec is written once (kube-apiserver copies it over on every update).
    csr.spec = structuredClone(old.spec);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const before = new Map(objs(obj(old.status).conditions).map((c) => [str(c.type), c]));
    for (const c of objs(obj(csr.status).conditions)) {
      const prev = before.get(str(c.type));
      if (!c.lastUpdateTime) c.lastUpdateTime = prev?.lastUpdateTime ?? now;
      if (!c.lastTransitionTime) c.lastTransitionTime = prev && prev.status === c.status ? prev.lastTransitionTime ?? now : now;
    }
  },
  validate(csr) {
    const spec = obj(csr.spec);
    const errs = [...validateRequest(spec), ...validateSignerName(spec.signerName), ...validateUsages(spec.usages)];
    if (spec.expirationSeconds !== undefined && (typeof spec.expirationSeconds !== 'number' || spec.expirationSeconds < 600)) {
      errs.push(invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
    }
    errs.push(...validateConditions(obj(csr.status)));
    return errs;
  },
  validateUpdate(csr, old) {
    const errs: FieldError[] = [];
    const now = csrConditions(csr);
    const was = csrConditions(old);
    for (const t of ['Approved', 'Denied', 'Failed']) {
      if (was[t] && !now[t]) errs.push(forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
    }
    const cert = str(obj(csr.status).certificate);
    const oldCert = str(obj(old.status).certificate);
    if (oldCert && cert !== oldCert) errs.push(forbidden('status.certificate', 'updates may not modify existing certificate content'));
    if (cert && !oldCert) {
      if (!now.Approved) errs.push(forbidden('status.certificate', 'certificate issuance requires an Approved condition'));
      if (now.Failed) errs.push(forbidden('status.certificate', 'certificate issuance forbidden with a Failed condition'));
      const bytes = decodeBytes(cert);
      const block = bytes && pemBlock(bytes.toString('latin1'), 'CERTIFICATE');
      if (!block || 'error' in block) errs.push(invalid('status.certificate', '<certificate data>', 'must contain at least one CERTIFICATE PEM block'));
    }
    if (!jsonEqual(csr.spec, old.spec)) errs.push(forbidden('spec', 'updates may not modify the spec'));
    return errs;
  },
  selectableFields: { 'spec.signerName': (csr) => str(obj(csr.spec).signerName) },
  table: {
    columns: [
      AGE,
      col('SignerName', 'string', 0, 'Only one signer is invoked for a CertificateSigningRequest.'),
      col('Requestor', 'string', 0, 'Name of the user who created this request.'),
      col('RequestedDuration', 'string', 0, 'The requested duration of the issued certificate.'),
      col('Condition', 'string', 0, 'The approval and issuance state of this request.'),
    ],
    cells: (csr, now) => {
      const spec = obj(csr.spec);
      const secs = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : undefined;
      return [since(csr.metadata.creationTimestamp, now), str(spec.signerName), str(spec.username), secs === undefined ? '<none>' : humanDuration(secs * 1000), conditionCell(csr)];
    },
  },
};
