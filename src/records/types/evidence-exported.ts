// `evidence.exported` (writer: owner): an evidence folder was written for a verification, with
// the SHA-256 of each of its files, so the log says which bundle the owner put their name to.
import { invalid } from '../errors.js';
import { checkSchema, isCount, isHex64, isObj, only, type RecordType } from '../record-type.js';

export const EVIDENCE_EXPORTED = 'evidence.exported';
export const EVIDENCE_EXPORTED_SCHEMA = 'hallmark/evidence.exported/v1';

export interface EvidenceExportedRecord {
  readonly schema: typeof EVIDENCE_EXPORTED_SCHEMA;
  readonly verification: number;
  readonly commitment: number;
  readonly checkpointSize: number;
  readonly files: Readonly<Record<string, { readonly sha256: string }>>;
}

const FILES = ['evidence.json', 'report.pdf', 'VERIFY.md'];

export function readEvidenceExported(payload: unknown, where = EVIDENCE_EXPORTED): EvidenceExportedRecord {
  const p = checkSchema(payload, EVIDENCE_EXPORTED, EVIDENCE_EXPORTED_SCHEMA, where);
  only(p, ['schema', 'verification', 'commitment', 'checkpointSize', 'files'], where);
  if (!isCount(p.verification, Number.MAX_SAFE_INTEGER) || !isCount(p.commitment, Number.MAX_SAFE_INTEGER) || !isCount(p.checkpointSize, Number.MAX_SAFE_INTEGER)) throw invalid(`${where}: verification, commitment and checkpointSize must be ledger indices`);
  const f = p.files;
  if (!isObj(f) || Object.keys(f).sort().join() !== [...FILES].sort().join()) throw invalid(`${where}.files must name ${FILES.join(', ')}`);
  for (const k of FILES) {
    const d = f[k];
    if (!isObj(d) || Object.keys(d).join() !== 'sha256' || !isHex64(d.sha256)) throw invalid(`${where}.files["${k}"] must be { sha256: <64 hex> }`);
  }
  return p as unknown as EvidenceExportedRecord;
}

export const evidenceExported: RecordType<EvidenceExportedRecord> = {
  type: EVIDENCE_EXPORTED,
  schema: EVIDENCE_EXPORTED_SCHEMA,
  writer: 'owner',
  decode: (p) => readEvidenceExported(p),
};
