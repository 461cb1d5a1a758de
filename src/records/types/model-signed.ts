// `model.signed` (writer: owner): one per OpenSSF model signature Hallmark makes (issue 15), so a
// key-based OMS signature, which Sigstore would log nowhere, has a transparency-log entry with an
// inclusion proof and a signed checkpoint. It names the bundle by the SHA-256 of its file bytes,
// the statement subject, and the signing key by its publicKey.hint (for certificate signatures
// also the leaf certificate's SHA-256). `model` is Hallmark's model id for the same bytes when the
// model's format is one Hallmark reads (docs/standards.md: how the two digests relate). Signed by
// the owner's key: a key that may append to the ledger cannot vouch for a signature.
import { invalid } from '../errors.js';
import { checkSchema, isCount, isHex64, isObj, isShortString, only, type RecordType } from '../record-type.js';

export const MODEL_SIGNED = 'model.signed';
export const MODEL_SIGNED_SCHEMA = 'hallmark/model.signed/v1';

export interface ModelSignedRecord {
  readonly schema: typeof MODEL_SIGNED_SCHEMA;
  readonly bundle: { readonly sha256: string; readonly mediaType: string };
  readonly subject: { readonly name: string; readonly digest: { readonly sha256: string } };
  readonly predicateType: string;
  readonly serialization: { readonly method: 'files' | 'shards'; readonly resources: number };
  readonly key: { readonly kind: 'publicKey' | 'x509CertificateChain'; readonly hint: string; readonly curve: string; readonly certificateSha256?: string };
  readonly model?: string;
}

const MODEL_ID = /^model:sha256:[0-9a-f]{64}$/;

function hex64(v: unknown, what: string): string {
  if (!isHex64(v)) throw invalid(`${MODEL_SIGNED}.${what} is not a hex SHA-256`);
  return v;
}

function text(v: unknown, what: string, max: number): string {
  if (!isShortString(v, max)) throw invalid(`${MODEL_SIGNED}.${what} is not a non-empty string of at most ${max} characters`);
  return v;
}

/** Strict: RECORD_INVALID on anything that is not a v1 record (readers never see `signature`). */
export function readModelSigned(payload: unknown, where = MODEL_SIGNED): ModelSignedRecord {
  const p = checkSchema(payload, MODEL_SIGNED, MODEL_SIGNED_SCHEMA, where);
  only(p, ['schema', 'bundle', 'subject', 'predicateType', 'serialization', 'key', 'model'], where);
  const { bundle, subject, serialization, key } = p as Record<string, unknown>;
  if (!isObj(bundle) || !isObj(subject) || !isObj(subject.digest) || !isObj(serialization) || !isObj(key)) throw invalid(`${where} is missing bundle, subject, serialization or key`);
  only(bundle, ['sha256', 'mediaType'], `${where}.bundle`);
  only(subject, ['name', 'digest'], `${where}.subject`);
  only(subject.digest, ['sha256'], `${where}.subject.digest`);
  only(serialization, ['method', 'resources'], `${where}.serialization`);
  only(key, ['kind', 'hint', 'curve', 'certificateSha256'], `${where}.key`);
  if (serialization.method !== 'files' && serialization.method !== 'shards') throw invalid(`${where}.serialization.method is not files or shards`);
  if (!isCount(serialization.resources, Number.MAX_SAFE_INTEGER)) throw invalid(`${where}.serialization.resources is not a count`);
  if (key.kind !== 'publicKey' && key.kind !== 'x509CertificateChain') throw invalid(`${where}.key.kind is not publicKey or x509CertificateChain`);
  if ((key.kind === 'x509CertificateChain') !== (key.certificateSha256 !== undefined)) throw invalid(`${where}.key.certificateSha256 is given exactly for certificate signatures`);
  if (p.model !== undefined && (typeof p.model !== 'string' || !MODEL_ID.test(p.model))) throw invalid(`${where}.model is not a model id`);
  return {
    schema: MODEL_SIGNED_SCHEMA,
    bundle: { sha256: hex64(bundle.sha256, 'bundle.sha256'), mediaType: text(bundle.mediaType, 'bundle.mediaType', 200) },
    subject: { name: text(subject.name, 'subject.name', 4096), digest: { sha256: hex64(subject.digest.sha256, 'subject.digest.sha256') } },
    predicateType: text(p.predicateType, 'predicateType', 200),
    serialization: { method: serialization.method, resources: serialization.resources },
    key: {
      kind: key.kind,
      hint: hex64(key.hint, 'key.hint'),
      curve: text(key.curve, 'key.curve', 32),
      ...(key.certificateSha256 !== undefined ? { certificateSha256: hex64(key.certificateSha256, 'key.certificateSha256') } : {}),
    },
    ...(p.model !== undefined ? { model: p.model as string } : {}),
  };
}

export const modelSigned: RecordType<ModelSignedRecord> = {
  type: MODEL_SIGNED,
  schema: MODEL_SIGNED_SCHEMA,
  writer: 'owner',
  decode: (p) => readModelSigned(p),
};
