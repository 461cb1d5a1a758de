// in-toto ResourceDescriptor (https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md),
// restricted to what Hallmark records: a name, a SHA-256 digest, and optional uri, mediaType, annotations.
// Ids are content addressed: `model:sha256:<model digest>` and `dataset:sha256:<dataset manifest root>`,
// so the same bytes always get the same id, in any ledger, and two different models never share one.
import type { JsonObject, JsonValue } from '../../ledger/index.js';
import { RecordError } from './errors.js';

export interface ResourceDescriptor {
  readonly name: string;
  readonly digest: { readonly sha256: string };
  readonly uri?: string;
  readonly mediaType?: string;
  readonly annotations?: JsonObject;
}

export type ModelId = `model:sha256:${string}`;
export type DatasetId = `dataset:sha256:${string}`;

const HEX64 = /^[0-9a-f]{64}$/;
export const MODEL_ID = /^model:sha256:[0-9a-f]{64}$/;
export const DATASET_ID = /^dataset:sha256:[0-9a-f]{64}$/;
const MAX_NAME = 200;
const MAX_URI = 2000;

export function modelIdFor(sha256Hex: string): ModelId {
  if (!HEX64.test(sha256Hex)) throw new TypeError(`model digest must be 64 lower-case hex digits, got ${JSON.stringify(sha256Hex)}`);
  return `model:sha256:${sha256Hex}`;
}

export function datasetIdFor(sha256Hex: string): DatasetId {
  if (!HEX64.test(sha256Hex)) throw new TypeError(`dataset digest must be 64 lower-case hex digits, got ${JSON.stringify(sha256Hex)}`);
  return `dataset:sha256:${sha256Hex}`;
}

export function isModelId(s: unknown): s is ModelId {
  return typeof s === 'string' && MODEL_ID.test(s);
}

export function isDatasetId(s: unknown): s is DatasetId {
  return typeof s === 'string' && DATASET_ID.test(s);
}

/** Builds a descriptor, checking what a caller passes (caller mistakes are TypeErrors). */
export function makeDescriptor(d: ResourceDescriptor): ResourceDescriptor {
  const problem = descriptorProblem(d);
  if (problem) throw new TypeError(`resource descriptor: ${problem}`);
  const out: { -readonly [K in keyof ResourceDescriptor]: ResourceDescriptor[K] } = { name: d.name, digest: { sha256: d.digest.sha256 } };
  if (d.uri !== undefined) out.uri = d.uri;
  if (d.mediaType !== undefined) out.mediaType = d.mediaType;
  if (d.annotations !== undefined) out.annotations = d.annotations;
  return out;
}

/** Reads a descriptor out of a stored payload; bad shapes are RECORD_INVALID. */
export function readDescriptor(v: unknown, where: string): ResourceDescriptor {
  const problem = descriptorProblem(v);
  if (problem) throw new RecordError('RECORD_INVALID', `${where}: ${problem}`);
  return v as ResourceDescriptor;
}

function descriptorProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['name', 'digest', 'uri', 'mediaType', 'annotations'].includes(k)) return `unknown field "${k}"`;
  if (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > MAX_NAME) return `name must be a string of 1-${MAX_NAME} characters`;
  const dg = o.digest as Record<string, unknown> | undefined;
  if (typeof dg !== 'object' || dg === null || Object.keys(dg).join() !== 'sha256' || typeof dg.sha256 !== 'string' || !HEX64.test(dg.sha256)) return 'digest must be { sha256: <64 lower-case hex digits> }';
  if (o.uri !== undefined && (typeof o.uri !== 'string' || o.uri.length > MAX_URI)) return `uri must be a string of at most ${MAX_URI} characters`;
  if (o.mediaType !== undefined && (typeof o.mediaType !== 'string' || o.mediaType.length > MAX_NAME)) return 'mediaType must be a short string';
  if (o.annotations !== undefined && (typeof o.annotations !== 'object' || o.annotations === null || Array.isArray(o.annotations))) return 'annotations must be an object';
  return undefined;
}

export function descriptorToJson(d: ResourceDescriptor): JsonObject {
  return makeDescriptor(d) as unknown as JsonObject;
}

export type { JsonValue };
