// Payloads of the three lineage entry types, each carrying a `schema` with its version. Builders
// check what a caller passes; readers check what comes out of a ledger and refuse versions they
// do not know. `lineage.derived` embeds an in-toto Statement v1 whose predicate is SLSA
// Provenance v1, so that the evidence code can wrap it in a DSSE envelope unchanged.
import { canonicalJsonBytes, toHex, type JsonObject, type JsonValue } from '../../ledger/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  datasetIdFor, descriptorToJson, isDatasetId, isModelId, makeDescriptor, modelIdFor, readDescriptor,
  type DatasetId, type ModelId, type ResourceDescriptor,
} from './resource.js';
import { RecordError } from './errors.js';
import { checkSchema as checkSchemaOf } from './record-type.js';

export const MODEL_SCHEMA = 'hallmark/model.registered/v1';
export const DATASET_SCHEMA = 'hallmark/dataset.registered/v1';
export const DERIVED_SCHEMA = 'hallmark/lineage.derived/v1';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const BUILD_TYPE = 'https://hallmark.dev/lineage/derive/v1';
export const DEFAULT_BUILDER_ID = 'https://hallmark.dev/builder/local/v1';

/** Bounds what one entry can name, so that a hostile entry cannot make lineage walks explode. */
export const MAX_REFS = 64;

export interface ModelRecord {
  readonly schema: typeof MODEL_SCHEMA;
  readonly id: ModelId;
  readonly model: ResourceDescriptor;
  /** 'tfjs-layers', 'onnx', 'safetensors', ... */
  readonly format: string;
  /** The RFC 6962 root over the tensor manifest, so one tensor can be proven part of the model. */
  readonly tensors?: { readonly count: number; readonly root: string };
}

export interface DatasetRecord {
  readonly schema: typeof DATASET_SCHEMA;
  readonly id: DatasetId;
  /** digest.sha256 is the dataset manifest's Merkle root. */
  readonly dataset: ResourceDescriptor;
  readonly items: number;
}

export interface DerivationRecord {
  readonly schema: typeof DERIVED_SCHEMA;
  readonly operation: string;
  readonly inputs: { readonly models: readonly ModelId[]; readonly datasets: readonly DatasetId[] };
  readonly outputs: readonly ModelId[];
  readonly parametersDigest: { readonly sha256: string };
  readonly statement: JsonObject;
}

// Dots allowed for namespaced operations such as "watermark.embed" (issue 4).
const OPERATION = /^[a-z][a-z0-9.-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** SHA-256 of the RFC 8785 canonical JSON of the parameters: the parameters themselves may be secret. */
export function digestParameters(parameters: JsonValue): string {
  return toHex(sha256(canonicalJsonBytes(parameters)));
}

export function buildModelRecord(model: ResourceDescriptor, format: string, tensors?: { count: number; root: string }): ModelRecord {
  const d = makeDescriptor(model);
  if (typeof format !== 'string' || !/^[a-z0-9][a-z0-9.-]{0,39}$/.test(format)) throw new TypeError(`model format must be a short lower-case name, got ${JSON.stringify(format)}`);
  if (tensors && (!Number.isSafeInteger(tensors.count) || tensors.count < 0 || !HEX64.test(tensors.root))) throw new TypeError('tensors must be { count: non-negative integer, root: 64 hex digits }');
  return { schema: MODEL_SCHEMA, id: modelIdFor(d.digest.sha256), model: d, format, ...(tensors ? { tensors: { count: tensors.count, root: tensors.root } } : {}) };
}

export function buildDatasetRecord(dataset: ResourceDescriptor, items: number): DatasetRecord {
  const d = makeDescriptor(dataset);
  if (!Number.isSafeInteger(items) || items < 0) throw new TypeError(`items must be a non-negative integer, got ${items}`);
  return { schema: DATASET_SCHEMA, id: datasetIdFor(d.digest.sha256), dataset: d, items };
}

export interface DerivationInput {
  readonly operation: string;
  readonly baseModels: readonly ModelRecord[];
  readonly datasets: readonly DatasetRecord[];
  readonly outputs: readonly ModelRecord[];
  readonly parameters?: JsonValue;
  readonly builderId?: string;
  readonly invocationId: string;
  readonly startedOn: Date;
  readonly finishedOn: Date;
}

function role(d: ResourceDescriptor, id: string, r: string): JsonObject {
  return { ...descriptorToJson(d), annotations: { ...(d.annotations ?? {}), 'hallmark.id': id, 'hallmark.role': r } };
}

export function buildDerivationRecord(input: DerivationInput): DerivationRecord {
  if (!OPERATION.test(input.operation)) throw new TypeError(`operation must be a lower-case name such as "fine-tune" or "watermark.embed", got ${JSON.stringify(input.operation)}`);
  if (input.outputs.length === 0) throw new TypeError('a derivation needs at least one output model');
  if (input.baseModels.length + input.datasets.length === 0) throw new TypeError('a derivation needs at least one input: a base model or a dataset');
  if (input.baseModels.length > MAX_REFS || input.datasets.length > MAX_REFS || input.outputs.length > MAX_REFS) throw new RangeError(`a derivation names at most ${MAX_REFS} models or datasets of each kind`);
  const outIds = new Set(input.outputs.map((m) => m.id));
  for (const b of input.baseModels) if (outIds.has(b.id)) throw new TypeError(`${b.id} cannot be derived from itself`);
  const parametersDigest = { sha256: digestParameters(input.parameters ?? {}) };
  const statement: JsonObject = {
    _type: STATEMENT_TYPE,
    subject: input.outputs.map((m) => role(m.model, m.id, 'output')),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { operation: input.operation, parameters: { digest: parametersDigest } },
        resolvedDependencies: [
          ...input.baseModels.map((m) => role(m.model, m.id, 'base-model')),
          ...input.datasets.map((d) => role(d.dataset, d.id, 'dataset')),
        ],
      },
      runDetails: {
        builder: { id: input.builderId ?? DEFAULT_BUILDER_ID },
        metadata: { invocationId: input.invocationId, startedOn: input.startedOn.toISOString(), finishedOn: input.finishedOn.toISOString() },
      },
    },
  };
  return {
    schema: DERIVED_SCHEMA,
    operation: input.operation,
    inputs: { models: input.baseModels.map((m) => m.id), datasets: input.datasets.map((d) => d.id) },
    outputs: input.outputs.map((m) => m.id),
    parametersDigest,
    statement,
  };
}

function checkSchema(p: unknown, want: string, type: string): asserts p is JsonObject {
  checkSchemaOf(p, type, want);
}

const bad = (msg: string) => new RecordError('RECORD_INVALID', msg);

export function readModelRecord(p: unknown): ModelRecord {
  checkSchema(p, MODEL_SCHEMA, 'model.registered');
  const model = readDescriptor(p.model, 'model.registered model');
  if (p.id !== modelIdFor(model.digest.sha256)) throw bad('model.registered id does not match the model digest');
  if (typeof p.format !== 'string') throw bad('model.registered has no format');
  const t = p.tensors as JsonObject | undefined;
  if (t !== undefined && (typeof t !== 'object' || t === null || !Number.isSafeInteger(t.count) || typeof t.root !== 'string' || !HEX64.test(t.root))) throw bad('model.registered tensors is malformed');
  return p as unknown as ModelRecord;
}

export function readDatasetRecord(p: unknown): DatasetRecord {
  checkSchema(p, DATASET_SCHEMA, 'dataset.registered');
  const dataset = readDescriptor(p.dataset, 'dataset.registered dataset');
  if (p.id !== datasetIdFor(dataset.digest.sha256)) throw bad('dataset.registered id does not match the dataset digest');
  if (!Number.isSafeInteger(p.items) || (p.items as number) < 0) throw bad('dataset.registered items is not a count');
  return p as unknown as DatasetRecord;
}

function idList<T extends string>(v: unknown, ok: (s: unknown) => s is T, what: string): T[] {
  if (!Array.isArray(v) || v.length > MAX_REFS || !v.every(ok)) throw bad(`lineage.derived ${what} must be a list of at most ${MAX_REFS} ids`);
  return v;
}

export function readDerivationRecord(p: unknown): DerivationRecord {
  checkSchema(p, DERIVED_SCHEMA, 'lineage.derived');
  if (typeof p.operation !== 'string' || !OPERATION.test(p.operation)) throw bad('lineage.derived operation is malformed');
  const inputs = p.inputs as JsonObject | undefined;
  if (typeof inputs !== 'object' || inputs === null) throw bad('lineage.derived has no inputs');
  idList(inputs.models, isModelId, 'inputs.models');
  idList(inputs.datasets, isDatasetId, 'inputs.datasets');
  idList(p.outputs, isModelId, 'outputs');
  const pd = p.parametersDigest as JsonObject | undefined;
  if (typeof pd !== 'object' || pd === null || typeof pd.sha256 !== 'string' || !HEX64.test(pd.sha256)) throw bad('lineage.derived parametersDigest is malformed');
  const st = p.statement as JsonObject | undefined;
  if (typeof st !== 'object' || st === null || st._type !== STATEMENT_TYPE || st.predicateType !== SLSA_PROVENANCE_V1) throw bad('lineage.derived statement is not an in-toto Statement v1 with SLSA Provenance v1');
  return p as unknown as DerivationRecord;
}
