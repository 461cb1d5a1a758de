// Appending and finding lineage records. Lookups scan the ledger by entry type, a page at a time;
// that is linear in the number of lineage entries, which is fine for a local ledger of thousands.
import { randomUUID } from 'node:crypto';
import type { JsonObject, JsonValue, Ledger, StoredEntry } from '../../ledger/index.js';
import { parseDatasetId, parseModelId, type DatasetId, type ModelId, type ResourceDescriptor } from './descriptor.js';
import { appendRecord, appendRecords, datasetRegistered, lineageDerived, modelRegistered, RecordError } from '../records/index.js';
import { LineageError } from './errors.js';
import {
  buildDatasetRecord, buildDerivationRecord, buildModelRecord, readDatasetRecord, readDerivationRecord, readModelRecord,
  type DatasetRecord, type DerivationRecord, type ModelRecord,
} from './records.js';

export const MODEL_REGISTERED = 'model.registered';
export const DATASET_REGISTERED = 'dataset.registered';
export const LINEAGE_DERIVED = 'lineage.derived';

const PAGE = 1000;

export interface Found<R> {
  readonly index: number;
  readonly time: string;
  readonly record: R;
}

/** Calls fn on every entry of a type in index order; stops early when fn returns true. */
export function scanEntries(ledger: Ledger, type: string, fn: (e: StoredEntry) => boolean | void): void {
  for (let from = 0; ; ) {
    const page = ledger.list({ type, from, limit: PAGE });
    for (const e of page) if (fn(e) === true) return;
    if (page.length < PAGE) return;
    from = page[page.length - 1]!.index + 1;
  }
}

/** Wraps a reader so that its error names the entry it came from. */
export function readAt<R>(e: StoredEntry, read: (p: JsonObject) => R): Found<R> {
  try {
    return { index: e.index, time: e.entry.time, record: read(e.entry.payload) };
  } catch (err) {
    if (err instanceof LineageError) throw new LineageError(err.code, `entry ${e.index}: ${err.message}`, { cause: err });
    if (err instanceof RecordError) throw new LineageError(err.code === 'RECORD_UNSUPPORTED_VERSION' ? 'LINEAGE_UNSUPPORTED_VERSION' : 'LINEAGE_BAD_ENTRY', `entry ${e.index}: ${err.message}`, { cause: err });
    throw err;
  }
}

export function findModel(ledger: Ledger, id: string): Found<ModelRecord> | undefined {
  const want = parseModelId(id);
  let found: Found<ModelRecord> | undefined;
  scanEntries(ledger, MODEL_REGISTERED, (e) => {
    if (e.entry.payload.id !== want) return false;
    found = readAt(e, readModelRecord);
    return true;
  });
  return found;
}

export function findDataset(ledger: Ledger, id: string): Found<DatasetRecord> | undefined {
  const want = parseDatasetId(id);
  let found: Found<DatasetRecord> | undefined;
  scanEntries(ledger, DATASET_REGISTERED, (e) => {
    if (e.entry.payload.id !== want) return false;
    found = readAt(e, readDatasetRecord);
    return true;
  });
  return found;
}

function requireModel(ledger: Ledger, id: string): Found<ModelRecord> {
  const m = findModel(ledger, id);
  if (!m) throw new LineageError('LINEAGE_NOT_FOUND', `model ${id} is not registered in this ledger; register it first with "hallmark model register"`);
  return m;
}

function requireDataset(ledger: Ledger, id: string): Found<DatasetRecord> {
  const d = findDataset(ledger, id);
  if (!d) throw new LineageError('LINEAGE_NOT_FOUND', `dataset ${id} is not registered in this ledger; register it first with "hallmark dataset register"`);
  return d;
}

export interface Registered<R> extends Found<R> {
  readonly leafHash: Uint8Array;
}

function registered<R>(e: StoredEntry, record: R): Registered<R> {
  return { index: e.index, time: e.entry.time, leafHash: e.leafHash, record };
}

export interface RegisterDatasetInput {
  /** digest.sha256 is the dataset manifest root. */
  readonly dataset: ResourceDescriptor;
  readonly items: number;
  readonly actor?: string;
}

export function registerDataset(ledger: Ledger, input: RegisterDatasetInput): Registered<DatasetRecord> {
  const record = buildDatasetRecord(input.dataset, input.items);
  const existing = findDataset(ledger, record.id);
  if (existing) throw new LineageError('LINEAGE_EXISTS', `dataset ${record.id} is already registered at entry ${existing.index} as "${existing.record.dataset.name}"`);
  const e = appendRecord(ledger, datasetRegistered, record, undefined, input.actor ?? 'hallmark');
  return registered(e, record);
}

export interface DerivationOptions {
  readonly operation: string;
  readonly baseModels?: readonly string[];
  readonly datasets?: readonly string[];
  /** Hashed into parametersDigest; never stored, since parameters may hold secrets. */
  readonly parameters?: JsonValue;
  readonly builderId?: string;
  readonly invocationId?: string;
  readonly startedOn?: Date;
  readonly finishedOn?: Date;
  readonly actor?: string;
}

export interface RegisterModelInput {
  readonly model: ResourceDescriptor;
  readonly format: string;
  readonly tensors?: { count: number; root: string };
  readonly actor?: string;
  /** When given, a lineage.derived entry is appended in the same transaction. */
  readonly derivation?: DerivationOptions;
}

export interface RegisterModelResult extends Registered<ModelRecord> {
  readonly derivation?: Registered<DerivationRecord>;
}

/** Appends model.registered, and lineage.derived for it when `derivation` is given, atomically. */
export function registerModel(ledger: Ledger, input: RegisterModelInput): RegisterModelResult {
  const record = buildModelRecord(input.model, input.format, input.tensors);
  const existing = findModel(ledger, record.id);
  if (existing) throw new LineageError('LINEAGE_EXISTS', `model ${record.id} is already registered at entry ${existing.index} as "${existing.record.model.name}"`);
  const actor = input.actor ?? 'hallmark';
  if (!input.derivation) return registered(appendRecord(ledger, modelRegistered, record, undefined, actor), record);
  const derived = buildDerivation(ledger, input.derivation, [record]);
  const [m, d] = appendRecords(ledger, [
    { type: modelRegistered, actor, payload: record },
    { type: lineageDerived, actor: input.derivation.actor ?? actor, payload: derived },
  ]);
  return { ...registered(m!, record), derivation: registered(d!, derived) };
}

export interface RecordDerivationInput extends DerivationOptions {
  readonly outputs: readonly string[];
}

/** Appends lineage.derived between models and datasets that are already registered. */
export function recordDerivation(ledger: Ledger, input: RecordDerivationInput): Registered<DerivationRecord> {
  const outputs = input.outputs.map((id) => requireModel(ledger, id).record);
  const record = buildDerivation(ledger, input, outputs);
  return registered(appendRecord(ledger, lineageDerived, record, undefined, input.actor ?? 'hallmark'), record);
}

function buildDerivation(ledger: Ledger, o: DerivationOptions, outputs: readonly ModelRecord[]): DerivationRecord {
  const baseModels = [...new Set(o.baseModels ?? [])].map((id) => requireModel(ledger, id).record);
  const datasets = [...new Set(o.datasets ?? [])].map((id) => requireDataset(ledger, id).record);
  refuseCycle(ledger, baseModels.map((m) => m.id), new Set(outputs.map((m) => m.id)));
  const startedOn = o.startedOn ?? new Date();
  return buildDerivationRecord({
    operation: o.operation,
    baseModels,
    datasets,
    outputs,
    invocationId: o.invocationId ?? randomUUID(),
    startedOn,
    finishedOn: o.finishedOn ?? startedOn,
    ...(o.parameters !== undefined ? { parameters: o.parameters } : {}),
    ...(o.builderId !== undefined ? { builderId: o.builderId } : {}),
  });
}

/** An output that is already an ancestor of a base model would close a loop in the lineage graph. */
function refuseCycle(ledger: Ledger, bases: readonly ModelId[], outputs: ReadonlySet<ModelId>): void {
  const parents = derivationParents(ledger);
  const seen = new Set<ModelId>();
  const stack = [...bases];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (outputs.has(id)) throw new LineageError('LINEAGE_INVALID', `${id} is both an output and an ancestor of a base model; lineage must not loop`);
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(parents.get(id) ?? []));
  }
}

/** Output model id -> base model ids, over every lineage.derived entry. */
function derivationParents(ledger: Ledger): Map<ModelId, ModelId[]> {
  const parents = new Map<ModelId, ModelId[]>();
  scanEntries(ledger, LINEAGE_DERIVED, (e) => {
    const r = readAt(e, readDerivationRecord).record;
    for (const out of r.outputs) parents.set(out, [...(parents.get(out) ?? []), ...r.inputs.models]);
  });
  return parents;
}

export type { DatasetId };
