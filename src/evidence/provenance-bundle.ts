// The provenance proof for compliance: one JSON file with a model's lineage entries, each with
// its exact bytes and an inclusion proof to one signed checkpoint, the checkpoint and the log's
// verifier key, RFC 3161 tokens when the home holds some, and the same lineage as an in-toto
// Statement v1 (SLSA Provenance v1) in a DSSE envelope signed by the owner.
import { canonicalJsonBytes, type Ledger } from '../../ledger/index.js';
import { parseModelId, scanEntries, findModel } from '../lineage/index.js';
import type { StoredTimestamp } from '../tsa/index.js';
import { pickTimestamps, type TimestampJson } from './bundle-timestamps.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope, type DsseEnvelope } from './dsse.js';
import { EvidenceError } from './errors.js';
import { closeLineage, LINEAGE_TYPES, type LineageEntry } from './lineage-closure.js';
import { proveEntries, type ProvenEntryJson } from './log-proofs.js';
import { dsseKeyId, parseSignerKey } from './owner-key.js';
import { buildProvenanceStatement } from './provenance-statement.js';
import { buildWitnessed, type WitnessedJson } from './witnessed.js';

export const PROVENANCE_FORMAT = 'hallmark/provenance-bundle/v1';

export interface ProvenanceBundle {
  format: typeof PROVENANCE_FORMAT;
  model: string;
  log: { origin: string; verifierKey: string };
  checkpoint: string;
  entries: ProvenEntryJson[];
  owner: { verifierKey: string };
  statement: DsseEnvelope;
  timestamps: TimestampJson[];
  /** issue 15: the cosigned checkpoint and policy, when the home publishes through witnesses. */
  witnessed?: WitnessedJson;
}

export interface BuildProvenanceInput {
  readonly ledger: Ledger;
  readonly modelId: string;
  /** The owner's note signer key string; parsed here and not kept. */
  readonly ownerSignerKey: string;
  readonly timestamps?: readonly StoredTimestamp[];
  /** issue 15: the home's tlog-policy and published checkpoint (src/witness homeWitnessing). */
  readonly witnessing?: { policy: string; published: string };
}

export function buildProvenanceBundle(input: BuildProvenanceInput): ProvenanceBundle {
  const { ledger } = input;
  const modelId = parseModelId(input.modelId);
  if (!findModel(ledger, modelId)) throw new EvidenceError('EVIDENCE_NOT_FOUND', `model ${modelId} is not registered in this ledger`);
  const owner = parseSignerKey(input.ownerSignerKey);
  const cp = ledger.checkpoint();
  const all: LineageEntry[] = [];
  for (const type of LINEAGE_TYPES) scanEntries(ledger, type, (e) => void (e.index < cp.size && all.push(e)));
  const closure = closeLineage(all, modelId, false);
  const statement = buildProvenanceStatement(modelId, closure, cp);
  const witnessed = buildWitnessed(ledger, input.witnessing, cp.size);
  return {
    format: PROVENANCE_FORMAT,
    model: modelId,
    log: { origin: ledger.origin, verifierKey: ledger.verifierKey },
    checkpoint: cp.note,
    entries: proveEntries(ledger, closure.indices, cp.size),
    owner: { verifierKey: owner.verifierKey },
    statement: signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(statement), [{ keyid: dsseKeyId(owner), seed: owner.seed }]),
    timestamps: pickTimestamps(input.timestamps ?? [], ledger, cp.size, [closure.indices[closure.indices.length - 1]!]),
    ...(witnessed ? { witnessed } : {}),
  };
}
