// The in-toto Statement v1 that an OMS signature carries (model_signing/_signing/signing.py):
// one subject named after the model whose sha256 is SHA-256 over the resources' raw digests in
// the order listed, predicateType https://model_signing/signature/v1.0, and a predicate holding
// `serialization` (how to re-hash the model) and `resources` (name, algorithm, hex digest).
import { createHash } from 'node:crypto';
import { badBundle } from './errors.js';
import { PyFloat, pyJson, type PyJson } from './py-json.js';
import { HASH_TYPES, type HashType, type Resource, type Serialization } from './serialize.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
/** model_signing v0.2 statements: resources as subjects, no serialization. */
export const PREDICATE_TYPE_COMPAT = 'https://model_signing/Digests/v0.1';
const MAX_RESOURCES = 1_000_000;
const HEX_RE = /^(?:[0-9a-f]{2})+$/;

export interface ModelManifest {
  readonly modelName: string;
  readonly serialization: Serialization;
  readonly resources: readonly Resource[];
  /** Hex SHA-256 of the concatenated resource digests: the statement's subject digest. */
  readonly subjectDigest: string;
  readonly predicateType: string;
}

/** SHA-256 over the raw resource digests, in the order given. */
export function subjectDigestOf(resources: readonly Resource[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

function serializationJson(s: Serialization): PyJson {
  const o: { [k: string]: PyJson } = { method: s.method, hash_type: s.hashType };
  if (s.method === 'shards') o.shard_size = new PyFloat(s.shardSize!);
  o.allow_symlinks = s.allowSymlinks;
  if (s.ignorePaths.length > 0) o.ignore_paths = [...s.ignorePaths];
  return o;
}

/** The statement's bytes, laid out as the reference writes them. */
export function statementBytes(modelName: string, s: Serialization, resources: readonly Resource[]): Uint8Array {
  const statement: PyJson = {
    _type: STATEMENT_TYPE,
    subject: [{ name: modelName, digest: { sha256: subjectDigestOf(resources) } }],
    predicateType: PREDICATE_TYPE,
    predicate: {
      serialization: serializationJson(s),
      resources: resources.map((r) => ({ name: r.name, algorithm: r.algorithm, digest: r.digest })),
    },
  };
  return new TextEncoder().encode(pyJson(statement));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown, what: string, max = 4096): string {
  if (typeof v !== 'string' || v.length > max) throw badBundle(`${what} is not a string of at most ${max} characters`);
  return v;
}

function parseSerialization(v: unknown): Serialization {
  if (!isObj(v)) throw badBundle('predicate.serialization is not an object');
  const method = v.method;
  if (method !== 'files' && method !== 'shards') throw badBundle(`serialization method ${JSON.stringify(method)} is not files or shards`);
  const hashType = str(v.hash_type, 'serialization.hash_type', 64);
  if (!HASH_TYPES.includes(hashType as HashType)) throw badBundle(`serialization hash_type ${JSON.stringify(hashType)} is not supported (sha256, blake2b)`);
  if (typeof v.allow_symlinks !== 'boolean') throw badBundle('serialization.allow_symlinks is not a boolean');
  let ignorePaths: string[] = [];
  if (v.ignore_paths !== undefined) {
    if (!Array.isArray(v.ignore_paths) || v.ignore_paths.length > 10_000) throw badBundle('serialization.ignore_paths is not a list of paths');
    ignorePaths = v.ignore_paths.map((p, i) => str(p, `serialization.ignore_paths[${i}]`));
  }
  const base = { method, hashType: hashType as HashType, allowSymlinks: v.allow_symlinks, ignorePaths } as const;
  if (method === 'files') return base;
  const shardSize = v.shard_size;
  if (typeof shardSize !== 'number' || !Number.isSafeInteger(shardSize) || shardSize <= 0) throw badBundle('serialization.shard_size is not a positive integer');
  return { ...base, shardSize };
}

function parseResource(v: unknown, i: number): Resource {
  if (!isObj(v)) throw badBundle(`resources[${i}] is not an object`);
  const name = str(v.name, `resources[${i}].name`);
  const algorithm = str(v.algorithm, `resources[${i}].algorithm`, 64);
  const digest = str(v.digest, `resources[${i}].digest`, 256);
  if (!HEX_RE.test(digest)) throw badBundle(`resources[${i}].digest is not lower-case hex`);
  return { name, algorithm, digest };
}

function parseSubject(payload: Record<string, unknown>): { name: string; sha256: string }[] {
  if (!Array.isArray(payload.subject) || payload.subject.length === 0 || payload.subject.length > MAX_RESOURCES) throw badBundle('statement subject is not a non-empty list');
  return payload.subject.map((s, i) => {
    if (!isObj(s) || !isObj(s.digest)) throw badBundle(`subject[${i}] has no digest`);
    const sha256 = str(s.digest.sha256, `subject[${i}].digest.sha256`, 64);
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw badBundle(`subject[${i}].digest.sha256 is not a hex SHA-256`);
    return { name: str(s.name, `subject[${i}].name`), sha256 };
  });
}

/** Reads a statement (already authenticated) into a manifest; checks the subject digest. */
export function parseStatement(bytes: Uint8Array): ModelManifest {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw badBundle('the signed payload is not UTF-8 JSON', err);
  }
  if (!isObj(payload)) throw badBundle('the signed payload is not a JSON object');
  if (payload._type !== STATEMENT_TYPE) throw badBundle(`payload _type is ${JSON.stringify(payload._type)}, want ${STATEMENT_TYPE}`);
  const subjects = parseSubject(payload);
  if (payload.predicateType === PREDICATE_TYPE_COMPAT) {
    const resources = subjects.map((s) => ({ name: s.name, algorithm: 'sha256', digest: s.sha256 }));
    return { modelName: 'compat-undefined-not-present', serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] }, resources, subjectDigest: subjectDigestOf(resources), predicateType: PREDICATE_TYPE_COMPAT };
  }
  if (payload.predicateType !== PREDICATE_TYPE) throw badBundle(`predicateType is ${JSON.stringify(payload.predicateType)}, want ${PREDICATE_TYPE}`);
  if (subjects.length !== 1) throw badBundle(`want exactly one subject, got ${subjects.length}`);
  const predicate = payload.predicate;
  if (!isObj(predicate)) throw badBundle('statement predicate is not an object');
  const serialization = parseSerialization(predicate.serialization);
  if (!Array.isArray(predicate.resources) || predicate.resources.length > MAX_RESOURCES) throw badBundle('predicate.resources is not a list');
  const resources = predicate.resources.map(parseResource);
  const subjectDigest = subjectDigestOf(resources);
  if (subjectDigest !== subjects[0]!.sha256) throw badBundle(`the subject digest ${subjects[0]!.sha256} is not the digest of the listed resources (${subjectDigest})`);
  return { modelName: subjects[0]!.name, serialization, resources, subjectDigest, predicateType: PREDICATE_TYPE };
}
