// The lineage of a model as a tree: the model, each derivation that produced it, and under each
// derivation its datasets and its base models, recursively. Built from one scan of the three
// lineage entry types; bounded in depth and size because entries may come from anyone who can
// append to the ledger.
import type { Ledger } from '../../ledger/index.js';
import { parseModelId, type DatasetId, type ModelId } from './descriptor.js';
import { LineageError } from './errors.js';
import { readDatasetRecord, readDerivationRecord, readModelRecord, type DatasetRecord, type DerivationRecord, type ModelRecord } from './records.js';
import { DATASET_REGISTERED, LINEAGE_DERIVED, MODEL_REGISTERED, readAt, scanEntries, type Found } from './register.js';

export const MAX_DEPTH = 64;
export const MAX_NODES = 5000;

export interface DatasetNode {
  readonly id: DatasetId;
  /** Absent when the ledger names a dataset it never registered. */
  readonly registered?: { readonly index: number; readonly time: string; readonly name: string; readonly items: number };
}

export interface DerivationNode {
  readonly index: number;
  readonly time: string;
  readonly operation: string;
  readonly parametersDigest: string;
  readonly datasets: DatasetNode[];
  readonly baseModels: LineageNode[];
}

export interface LineageNode {
  readonly id: ModelId;
  readonly registered?: { readonly index: number; readonly time: string; readonly name: string; readonly format: string };
  /** True where this id already appears higher up the same branch (only a hand-made ledger can do that). */
  readonly cycle?: true;
  readonly derivations: DerivationNode[];
}

interface LineageIndex {
  models: Map<ModelId, Found<ModelRecord>>;
  datasets: Map<DatasetId, Found<DatasetRecord>>;
  producedBy: Map<ModelId, Found<DerivationRecord>[]>;
}

function readIndex(ledger: Ledger): LineageIndex {
  const ix: LineageIndex = { models: new Map(), datasets: new Map(), producedBy: new Map() };
  scanEntries(ledger, MODEL_REGISTERED, (e) => {
    const f = readAt(e, readModelRecord);
    if (!ix.models.has(f.record.id)) ix.models.set(f.record.id, f);
  });
  scanEntries(ledger, DATASET_REGISTERED, (e) => {
    const f = readAt(e, readDatasetRecord);
    if (!ix.datasets.has(f.record.id)) ix.datasets.set(f.record.id, f);
  });
  scanEntries(ledger, LINEAGE_DERIVED, (e) => {
    const f = readAt(e, readDerivationRecord);
    for (const out of new Set(f.record.outputs)) ix.producedBy.set(out, [...(ix.producedBy.get(out) ?? []), f]);
  });
  return ix;
}

/** The lineage tree of a registered model. */
export function lineageOf(ledger: Ledger, modelId: string): LineageNode {
  const id = parseModelId(modelId);
  const ix = readIndex(ledger);
  if (!ix.models.has(id)) throw new LineageError('LINEAGE_NOT_FOUND', `model ${id} is not registered in this ledger`);
  let nodes = 0;
  const walk = (mid: ModelId, path: ReadonlySet<ModelId>): LineageNode => {
    if (++nodes > MAX_NODES) throw new LineageError('LINEAGE_INVALID', `the lineage of ${id} has more than ${MAX_NODES} nodes; refusing to expand it`);
    if (path.size > MAX_DEPTH) throw new LineageError('LINEAGE_INVALID', `the lineage of ${id} is deeper than ${MAX_DEPTH} generations`);
    const m = ix.models.get(mid);
    const reg = m ? { registered: { index: m.index, time: m.time, name: m.record.model.name, format: m.record.format } } : {};
    if (path.has(mid)) return { id: mid, ...reg, cycle: true, derivations: [] };
    const below = new Set(path).add(mid);
    const derivations = (ix.producedBy.get(mid) ?? []).map((d): DerivationNode => ({
      index: d.index,
      time: d.time,
      operation: d.record.operation,
      parametersDigest: d.record.parametersDigest.sha256,
      datasets: d.record.inputs.datasets.map((did) => {
        const ds = ix.datasets.get(did);
        return ds ? { id: did, registered: { index: ds.index, time: ds.time, name: ds.record.dataset.name, items: ds.record.items } } : { id: did };
      }),
      baseModels: d.record.inputs.models.map((b) => walk(b, below)),
    }));
    return { id: mid, ...reg, derivations };
  };
  return walk(id, new Set());
}

/** A readable tree, one line per model, derivation and dataset. */
export function formatLineage(root: LineageNode): string {
  const lines: string[] = [];
  const model = (n: LineageNode, prefix: string, tail: string): void => {
    const what = n.registered ? `${n.registered.name} (${n.registered.format}, entry ${n.registered.index})` : '(not registered)';
    lines.push(`${prefix}${n.id}  ${what}${n.cycle ? '  [cycle]' : ''}`);
    n.derivations.forEach((d, i) => {
      const last = i === n.derivations.length - 1;
      lines.push(`${tail}${last ? '└─ ' : '├─ '}${d.operation} (entry ${d.index}, ${d.time}, params sha256:${d.parametersDigest.slice(0, 12)}…)`);
      const t = `${tail}${last ? '   ' : '│  '}`;
      const kids = d.datasets.length + d.baseModels.length;
      let k = 0;
      for (const ds of d.datasets) {
        const end = ++k === kids;
        const what2 = ds.registered ? `${ds.registered.name} (${ds.registered.items} items, entry ${ds.registered.index})` : '(not registered)';
        lines.push(`${t}${end ? '└─ ' : '├─ '}dataset ${ds.id}  ${what2}`);
      }
      for (const b of d.baseModels) {
        const end = ++k === kids;
        model(b, `${t}${end ? '└─ ' : '├─ '}base `, `${t}${end ? '   ' : '│  '}`);
      }
    });
  };
  model(root, '', '');
  return lines.join('\n');
}
