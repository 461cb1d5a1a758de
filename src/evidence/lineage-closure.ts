// Which entries make up a model's lineage: the model's registration, every derivation that
// produced it or an ancestor, the registrations of those ancestors and datasets, and the
// watermark.committed entries that name the model or an ancestor (an embed commits for its input
// model, so the mark on an output is found through its parent). Writer and reader run this same
// function, the reader over the bundle's entries only, so a missing or extra entry shows.
import { isHallmarkError, toHex, type Entry, type JsonObject } from '../../ledger/index.js';
import {
  DATASET_REGISTERED, LINEAGE_DERIVED, MODEL_REGISTERED, readDatasetRecord, readDerivationRecord, readModelRecord,
  type DatasetRecord, type DerivationRecord, type ModelRecord,
} from '../lineage/index.js';
import { isObj, verifyRecordEntry, watermarkCommitted, WATERMARK_COMMITTED, type CommittedRecord } from '../records/index.js';
import { failed } from './errors.js';

export const LINEAGE_TYPES = [MODEL_REGISTERED, DATASET_REGISTERED, LINEAGE_DERIVED, WATERMARK_COMMITTED] as const;

export interface LineageEntry {
  readonly index: number;
  readonly entry: Entry;
  readonly leafHash: Uint8Array;
}

export interface Closure {
  readonly models: Map<string, { index: number; record: ModelRecord; leafHash: string }>;
  readonly datasets: Map<string, { index: number; record: DatasetRecord; leafHash: string }>;
  readonly derivations: { index: number; record: DerivationRecord; leafHash: string }[];
  readonly commitments: { index: number; record: CommittedRecord; leafHash: string }[];
  /** Indices of every entry in the lineage, ascending. */
  readonly indices: number[];
  /** Without `strict`: entries left out because they are malformed or their signature fails. */
  readonly skipped: { index: number; message: string }[];
}

/**
 * A commitment counts only if it is signed by the key it names as owner (src/records): an
 * unsigned or forged one is malformed here. Whether that key is the expected owner is the
 * caller's check (evidence verify compares it with the pinned or bundle owner key).
 */
function readCommitted(e: LineageEntry): CommittedRecord {
  const named = isObj(e.entry.payload) ? e.entry.payload.ownerKey : undefined;
  return verifyRecordEntry(e.entry, watermarkCommitted, { owner: typeof named === 'string' ? named : '' }).record;
}

function read<R>(e: LineageEntry, fn: (p: JsonObject) => R): R {
  try {
    return fn(e.entry.payload);
  } catch (err) {
    if (isHallmarkError(err)) throw failed(`entry ${e.index} (${e.entry.type}) is malformed: ${(err as Error).message}`, err);
    throw err;
  }
}

/**
 * The lineage closure of `modelId` over `entries` (of the four lineage types, any order). With
 * `strict`, every entry given must belong to the closure and every id it names must be
 * registered in it, else verification fails naming the entry.
 */
export function closeLineage(entries: readonly LineageEntry[], modelId: string, strict: boolean): Closure {
  const models = new Map<string, { index: number; record: ModelRecord; leafHash: string }>();
  const datasets = new Map<string, { index: number; record: DatasetRecord; leafHash: string }>();
  const producedBy = new Map<string, { index: number; record: DerivationRecord; leafHash: string }[]>();
  const committedFor = new Map<string, { index: number; record: CommittedRecord; leafHash: string }[]>();
  const sorted = [...entries].sort((a, b) => a.index - b.index);
  const skipped: { index: number; message: string }[] = [];
  for (const e of sorted) {
    const leafHash = toHex(e.leafHash);
    try {
      collect(e, leafHash);
    } catch (err) {
      // Writing a bundle, a bad entry is left out and reported; reading one, it fails the bundle.
      if (strict || !isHallmarkError(err)) throw err;
      skipped.push({ index: e.index, message: (err as Error).message });
    }
  }
  function collect(e: LineageEntry, leafHash: string): void {
    switch (e.entry.type) {
      case MODEL_REGISTERED: {
        const record = read(e, readModelRecord);
        if (!models.has(record.id)) models.set(record.id, { index: e.index, record, leafHash });
        else if (strict) throw failed(`entry ${e.index} registers ${record.id} a second time`);
        break;
      }
      case DATASET_REGISTERED: {
        const record = read(e, readDatasetRecord);
        if (!datasets.has(record.id)) datasets.set(record.id, { index: e.index, record, leafHash });
        else if (strict) throw failed(`entry ${e.index} registers ${record.id} a second time`);
        break;
      }
      case LINEAGE_DERIVED: {
        const record = read(e, readDerivationRecord);
        for (const out of new Set(record.outputs)) producedBy.set(out, [...(producedBy.get(out) ?? []), { index: e.index, record, leafHash }]);
        break;
      }
      case WATERMARK_COMMITTED: {
        const record = read(e, () => readCommitted(e));
        committedFor.set(record.model, [...(committedFor.get(record.model) ?? []), { index: e.index, record, leafHash }]);
        break;
      }
      default:
        if (strict) throw failed(`entry ${e.index} has type ${e.entry.type}, which is not part of a lineage`);
    }
  }
  const keep = new Set<number>();
  const out: Closure = { models: new Map(), datasets: new Map(), derivations: [], commitments: [], indices: [], skipped };
  const stack = [modelId];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const m = models.get(id);
    if (!m) {
      if (strict || id === modelId) throw failed(`model ${id} is named in the lineage but its registration is not in the bundle`);
      continue;
    }
    out.models.set(id, m);
    keep.add(m.index);
    for (const c of committedFor.get(id) ?? []) if (!keep.has(c.index)) (keep.add(c.index), out.commitments.push(c));
    for (const d of producedBy.get(id) ?? []) {
      if (keep.has(d.index)) continue;
      keep.add(d.index);
      out.derivations.push(d);
      stack.push(...d.record.inputs.models);
      for (const did of d.record.inputs.datasets) {
        const ds = datasets.get(did);
        if (!ds) {
          if (strict) throw failed(`dataset ${did} named by entry ${d.index} has no registration in the bundle`);
          continue;
        }
        out.datasets.set(did, ds);
        keep.add(ds.index);
      }
    }
  }
  if (strict) for (const e of sorted) if (!keep.has(e.index)) throw failed(`entry ${e.index} (${e.entry.type}) is not part of the lineage of ${modelId}`);
  out.derivations.sort((a, b) => a.index - b.index);
  out.commitments.sort((a, b) => a.index - b.index);
  out.indices.push(...[...keep].sort((a, b) => a - b));
  return out;
}
