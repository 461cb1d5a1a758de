// The api.* audit entries (writer: server): what the HTTP service did on whose behalf. One file
// for the six of them: each is a few fields, and they are written and read together.
import { invalid } from '../errors.js';
import { checkSchema, isCount, isHex64, isObj, isShortString, only, type RecordType } from '../record-type.js';
import { isModelId } from '../resource.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX = Number.MAX_SAFE_INTEGER;

type Check = (p: Record<string, unknown>, where: string) => void;

function apiType<T>(name: string, fields: readonly string[], check: Check): RecordType<T> {
  const type = `api.${name}`;
  const schema = `hallmark/${type}/v1`;
  return {
    type, schema, writer: 'server',
    decode(payload) {
      const p = checkSchema(payload, type, schema);
      only(p, ['schema', ...fields], type);
      for (const f of fields) if (!(f in p)) throw invalid(`${type} has no field "${f}"`);
      check(p, type);
      return p as unknown as T;
    },
  };
}

const digest = (v: unknown) => isObj(v) && Object.keys(v).join() === 'sha256' && isHex64(v.sha256);
const need = (ok: boolean, msg: string) => {
  if (!ok) throw invalid(msg);
};

export const apiKeyCreated = apiType<{ keyId: string; name: string; role: string }>('key-created', ['keyId', 'name', 'role'], (p, w) =>
  need(isShortString(p.keyId, 100) && isShortString(p.name, 200) && isShortString(p.role, 40), `${w}: keyId, name and role must be short strings`));
export const apiKeyRevoked = apiType<{ keyId: string }>('key-revoked', ['keyId'], (p, w) => need(isShortString(p.keyId, 100), `${w}: keyId must be a short string`));
export const apiJobSubmitted = apiType<{ jobId: string; kind: string }>('job-submitted', ['jobId', 'kind'], (p, w) =>
  need(typeof p.jobId === 'string' && UUID.test(p.jobId) && isShortString(p.kind, 100), `${w}: jobId must be a UUID and kind a short string`));
export const apiSuspectUploaded = apiType<{ name: string; digest: { sha256: string }; size: number }>('suspect-uploaded', ['name', 'digest', 'size'], (p, w) =>
  need(isShortString(p.name, 500) && digest(p.digest) && isCount(p.size, MAX), `${w}: name, digest { sha256 } and size are required`));
export const apiProvenanceCreated = apiType<{ model: string; bundle: { sha256: string }; checkpointSize: number }>('provenance-created', ['model', 'bundle', 'checkpointSize'], (p, w) =>
  need(isModelId(p.model) && digest(p.bundle) && isCount(p.checkpointSize, MAX), `${w}: model id, bundle { sha256 } and checkpointSize are required`));
export const apiEvidenceExported = apiType<{ jobId: string; verification: number; files: Record<string, { sha256: string }> }>('evidence-exported', ['jobId', 'verification', 'files'], (p, w) =>
  need(typeof p.jobId === 'string' && UUID.test(p.jobId) && isCount(p.verification, MAX) && isObj(p.files) && Object.keys(p.files).length <= 8 && Object.values(p.files).every(digest), `${w}: jobId, verification and files { name: { sha256 } } are required`));

export const API_TYPES = [apiKeyCreated, apiKeyRevoked, apiJobSubmitted, apiSuspectUploaded, apiProvenanceCreated, apiEvidenceExported] as const;
