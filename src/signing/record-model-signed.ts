// The `model.signed` ledger entry: one per OpenSSF model signature Hallmark makes, so that a
// key-based OMS signature (which Sigstore would otherwise log nowhere) has a transparency-log
// entry with an inclusion proof and a signed checkpoint. It names the bundle by the SHA-256 of its
// file bytes, the statement subject, and the signing key by its publicKey.hint (for certificate
// signatures also the leaf certificate's SHA-256). `model` is Hallmark's model id for the same
// bytes when the model's format is known (see docs/standards.md for how the two digests relate).
// The lead moves this file into src/records at merge; the owner's key should sign it there.
import type { JsonObject, Ledger, StoredEntry } from '../../ledger/index.js';
import { badBundle } from './errors.js';

export const TYPE = 'model.signed';
export const SCHEMA = 'hallmark/model.signed/v1';
const HEX64 = /^[0-9a-f]{64}$/;

export interface ModelSignedRecord {
  readonly schema: typeof SCHEMA;
  readonly bundle: { readonly sha256: string; readonly mediaType: string };
  readonly subject: { readonly name: string; readonly digest: { readonly sha256: string } };
  readonly predicateType: string;
  readonly serialization: { readonly method: 'files' | 'shards'; readonly resources: number };
  readonly key: { readonly kind: 'publicKey' | 'x509CertificateChain'; readonly hint: string; readonly curve: string; readonly certificateSha256?: string };
  readonly model?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function keys(o: Record<string, unknown>, allowed: string[], what: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw badBundle(`${what} has unknown fields ${extra.join(', ')}`);
}

function hex64(v: unknown, what: string): string {
  if (typeof v !== 'string' || !HEX64.test(v)) throw badBundle(`${what} is not a hex SHA-256`);
  return v;
}

function str(v: unknown, what: string, max = 4096): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw badBundle(`${what} is not a non-empty string`);
  return v;
}

/** Strict decoder: throws SIGNING_BAD_BUNDLE on anything that is not a v1 record. */
export function decodeModelSigned(payload: unknown): ModelSignedRecord {
  if (!isObj(payload)) throw badBundle('model.signed payload is not an object');
  if (payload.schema !== SCHEMA) throw badBundle(`model.signed schema ${JSON.stringify(payload.schema)} is not ${SCHEMA}`);
  keys(payload, ['schema', 'bundle', 'subject', 'predicateType', 'serialization', 'key', 'model'], 'model.signed');
  const { bundle, subject, serialization, key } = payload;
  if (!isObj(bundle) || !isObj(subject) || !isObj(subject.digest) || !isObj(serialization) || !isObj(key)) throw badBundle('model.signed is missing bundle, subject, serialization or key');
  keys(bundle, ['sha256', 'mediaType'], 'model.signed bundle');
  keys(key, ['kind', 'hint', 'curve', 'certificateSha256'], 'model.signed key');
  if (serialization.method !== 'files' && serialization.method !== 'shards') throw badBundle('model.signed serialization.method is not files or shards');
  if (!Number.isSafeInteger(serialization.resources) || (serialization.resources as number) < 0) throw badBundle('model.signed serialization.resources is not a count');
  if (key.kind !== 'publicKey' && key.kind !== 'x509CertificateChain') throw badBundle('model.signed key.kind is not publicKey or x509CertificateChain');
  if (payload.model !== undefined && (typeof payload.model !== 'string' || !/^model:sha256:[0-9a-f]{64}$/.test(payload.model))) throw badBundle('model.signed model is not a model id');
  return {
    schema: SCHEMA,
    bundle: { sha256: hex64(bundle.sha256, 'bundle.sha256'), mediaType: str(bundle.mediaType, 'bundle.mediaType', 200) },
    subject: { name: str(subject.name, 'subject.name'), digest: { sha256: hex64(subject.digest.sha256, 'subject.digest.sha256') } },
    predicateType: str(payload.predicateType, 'predicateType', 200),
    serialization: { method: serialization.method, resources: serialization.resources as number },
    key: {
      kind: key.kind,
      hint: hex64(key.hint, 'key.hint'),
      curve: str(key.curve, 'key.curve', 16),
      ...(key.certificateSha256 !== undefined ? { certificateSha256: hex64(key.certificateSha256, 'key.certificateSha256') } : {}),
    },
    ...(payload.model !== undefined ? { model: payload.model as string } : {}),
  };
}

/** The one writer of model.signed entries. */
export function appendModelSigned(ledger: Ledger, record: ModelSignedRecord, actor = 'cli'): StoredEntry {
  const checked = decodeModelSigned(record);
  return ledger.append({ type: TYPE, actor, payload: checked as unknown as JsonObject });
}

/** The model.signed entries naming a bundle digest (newest last). */
export function findModelSigned(ledger: Ledger, bundleSha256: string): { entry: StoredEntry; record: ModelSignedRecord }[] {
  const out: { entry: StoredEntry; record: ModelSignedRecord }[] = [];
  for (let from = 0; ;) {
    const page = ledger.list({ type: TYPE, from, limit: 1000 });
    for (const e of page) {
      try {
        const r = decodeModelSigned(e.entry.payload);
        if (r.bundle.sha256 === bundleSha256) out.push({ entry: e, record: r });
      } catch {
        // a malformed entry names nothing; the audit reports it
      }
    }
    if (page.length < 1000) return out;
    from = page[page.length - 1]!.index + 1;
  }
}
