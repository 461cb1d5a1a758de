// The ledger side of embedding, in the order the issue fixes: the input model and dataset are
// registered if they are not yet, `watermark.committed` goes in before any output exists, and
// `model.registered` + `lineage.derived` for the marked model go in together afterwards.
import type { JsonObject, Ledger } from '../../ledger/index.js';
import { commitWatermark, type WatermarkRoot } from '../core/index.js';
import { appendRecord, COMMITTED_SCHEMA, watermarkCommitted, type RecordSigner, type WatermarkScheme } from '../records/index.js';
import { MEDIA_TYPES, type ModelFormat } from '../formats/index.js';
import { datasetIdFor, findDataset, findModel, identifyModel as identifyLineageModel, registerDataset, registerModel, type DatasetId, type ModelId } from '../lineage/index.js';
import type { DatasetSource } from './dataset-source.js';

export const EMBED_OPERATION = 'watermark.embed';

export interface ModelIdentity {
  readonly id: ModelId;
  readonly format: ModelFormat;
  readonly descriptor: { name: string; digest: { sha256: string }; mediaType: string; annotations?: JsonObject };
  readonly tensors: { count: number; root: string };
}

/** The content-addressed id of a model file or folder and its tensor root (src/lineage). */
export async function identifyModel(path: string): Promise<ModelIdentity> {
  const m = await identifyLineageModel(path);
  return { id: m.id, format: m.format, descriptor: { name: m.descriptor.name, digest: { sha256: m.descriptor.digest.sha256 }, mediaType: m.descriptor.mediaType ?? MEDIA_TYPES[m.format] }, tensors: m.tensors };
}

/** Registers the model unless the ledger already has it; returns its entry index. */
export function ensureModelRegistered(ledger: Ledger, m: ModelIdentity, actor: string): number {
  const found = findModel(ledger, m.id);
  if (found) return found.index;
  return registerModel(ledger, { model: m.descriptor, format: m.format, tensors: m.tensors, actor }).index;
}

export function ensureDatasetRegistered(ledger: Ledger, d: Pick<DatasetSource, 'descriptor' | 'items'>, actor: string): { id: DatasetId; index: number } {
  const id = datasetIdFor(d.descriptor.digest.sha256);
  const found = findDataset(ledger, id);
  if (found) return { id, index: found.index };
  return { id, index: registerDataset(ledger, { dataset: d.descriptor, items: d.items, actor }).index };
}

export interface CommitInput {
  readonly model: ModelId;
  readonly scheme: WatermarkScheme;
  readonly parameters: JsonObject;
  readonly root: WatermarkRoot;
  readonly salt: Uint8Array;
  readonly ownerKey: string;
  readonly actor: string;
}

/** Appends watermark.committed (src/records), signed by the owner's key: the digest of core's commitment,
 *  which binds scheme, parameters, the root's digest and the salt; none of them secret but the root. */
export function appendCommitted(ledger: Ledger, c: CommitInput, signer: RecordSigner): { index: number; commitment: string } {
  const { digest } = commitWatermark({ scheme: c.scheme, parameters: c.parameters, root: c.root, salt: c.salt });
  const payload = { schema: COMMITTED_SCHEMA, model: c.model, scheme: c.scheme, parameters: c.parameters, commitment: digest, ownerKey: c.ownerKey };
  const e = appendRecord(ledger, watermarkCommitted, payload, signer, c.actor);
  return { index: e.index, commitment: digest };
}

export interface OutputRegistration {
  readonly output: ModelIdentity;
  readonly input: ModelId;
  readonly dataset?: DatasetId;
  /** Hashed into parametersDigest (lineage keeps only the digest). */
  readonly parameters: JsonObject;
  readonly startedOn: Date;
  readonly finishedOn: Date;
  readonly actor: string;
}

/** model.registered for the marked model and lineage.derived from the input, in one batch. */
export function registerOutput(ledger: Ledger, o: OutputRegistration): { model: number; derivation: number } {
  const r = registerModel(ledger, {
    model: o.output.descriptor,
    format: o.output.format,
    tensors: o.output.tensors,
    actor: o.actor,
    derivation: {
      operation: EMBED_OPERATION,
      baseModels: [o.input],
      ...(o.dataset ? { datasets: [o.dataset] } : {}),
      parameters: o.parameters,
      startedOn: o.startedOn,
      finishedOn: o.finishedOn,
    },
  });
  return { model: r.index, derivation: r.derivation!.index };
}
