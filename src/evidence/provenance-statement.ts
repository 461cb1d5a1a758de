// The lineage as an in-toto Statement v1 with an SLSA Provenance v1 predicate, computed only
// from the proven entries and the checkpoint, so that a verifier recomputes it byte for byte
// and compares it with what the owner signed. No clock, no randomness.
import { toBase64, type JsonObject } from '../../ledger/index.js';
import { DEFAULT_BUILDER_ID, SLSA_PROVENANCE_V1, STATEMENT_TYPE, type ResourceDescriptor } from '../lineage/index.js';
import type { Closure } from './lineage-closure.js';

export const PROVENANCE_BUILD_TYPE = 'https://hallmark.dev/provenance/lineage/v1';

function described(d: ResourceDescriptor, annotations: JsonObject): JsonObject {
  return {
    name: d.name,
    digest: { sha256: d.digest.sha256 },
    ...(d.uri !== undefined ? { uri: d.uri } : {}),
    ...(d.mediaType !== undefined ? { mediaType: d.mediaType } : {}),
    annotations: { ...(d.annotations ?? {}), ...annotations },
  };
}

export function buildProvenanceStatement(modelId: string, c: Closure, checkpoint: { origin: string; size: number; root: Uint8Array }): JsonObject {
  const subject = c.models.get(modelId);
  if (!subject) throw new TypeError(`closure has no model ${modelId}`);
  const entryNote = (index: number, leafHash: string) => ({ 'hallmark.entry': index, 'hallmark.leafHash': leafHash });
  const deps: JsonObject[] = [];
  for (const [id, m] of [...c.models].sort((a, b) => a[1].index - b[1].index)) {
    if (id !== modelId) deps.push(described(m.record.model, { 'hallmark.id': id, 'hallmark.role': 'base-model', 'hallmark.format': m.record.format, ...entryNote(m.index, m.leafHash) }));
  }
  for (const [id, d] of [...c.datasets].sort((a, b) => a[1].index - b[1].index)) {
    deps.push(described(d.record.dataset, { 'hallmark.id': id, 'hallmark.role': 'dataset', 'hallmark.items': d.record.items, ...entryNote(d.index, d.leafHash) }));
  }
  const byproducts: JsonObject[] = [
    ...c.derivations.map((d) => ({
      name: `lineage.derived/${d.index}`,
      digest: { sha256: d.leafHash },
      annotations: { operation: d.record.operation, inputs: [...d.record.inputs.models, ...d.record.inputs.datasets], outputs: [...d.record.outputs], parametersDigest: d.record.parametersDigest.sha256 },
    })),
    ...c.commitments.map((w) => ({
      name: `watermark.committed/${w.index}`,
      digest: { sha256: w.leafHash },
      annotations: { model: w.record.model, scheme: w.record.scheme, commitment: w.record.commitment, ownerKey: w.record.ownerKey },
    })),
  ];
  return {
    _type: STATEMENT_TYPE,
    subject: [described(subject.record.model, { 'hallmark.id': modelId, 'hallmark.format': subject.record.format, ...entryNote(subject.index, subject.leafHash) })],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: PROVENANCE_BUILD_TYPE,
        externalParameters: { model: modelId, log: { origin: checkpoint.origin, size: checkpoint.size, root: toBase64(checkpoint.root) } },
        resolvedDependencies: deps,
      },
      runDetails: { builder: { id: DEFAULT_BUILDER_ID }, byproducts },
    },
  };
}
