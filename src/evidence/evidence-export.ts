// hallmark evidence export: evidence.json (a DSSE-signed in-toto statement holding every entry,
// proof, checkpoint, the commitment opening and the revealed secret), report.pdf and VERIFY.md.
// The statement carries the SHA-256 of the other two files, so no byte of the folder is unsigned.
import { sha256 } from '@noble/hashes/sha2.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJsonBytes, toHex, type JsonObject, type Ledger } from '../../ledger/index.js';
import { encodeOpening } from '../core/index.js';
import { findModel, scanEntries } from '../lineage/index.js';
import { parseToken, type StoredTimestamp } from '../tsa/index.js';
import { nameOf } from '../tsa/verify-token.js';
import { pickTimestamps } from './bundle-timestamps.js';
import { readCommittedRecord, WATERMARK_COMMITTED } from '../records/index.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.js';
import { EvidenceError } from './errors.js';
import { closeLineage, LINEAGE_TYPES, type LineageEntry } from './lineage-closure.js';
import { proveConsistency, proveEntries } from './log-proofs.js';
import { dsseKeyId, parseSignerKey } from './owner-key.js';
import { renderReportPdf } from './report-pdf.js';
import { readRevealedOpening } from './secret-material.js';
import { formatBundleJson } from './strict-json.js';
import { readVerificationRecord, VERIFICATION_RECORDED } from '../records/index.js';
import { renderVerifyMd } from './verify-md.js';

export const EVIDENCE_FORMAT = 'hallmark/evidence-bundle/v1';
export const EVIDENCE_PREDICATE = 'https://hallmark.dev/evidence/ownership/v1';

export interface ExportEvidenceInput {
  readonly ledger: Ledger;
  readonly verificationIndex: number;
  readonly ownerSignerKey: string;
  /** The commitment opening document (src/core encodeOpening form), decrypted from the secret store. */
  readonly opening: unknown;
  readonly timestamps?: readonly StoredTimestamp[];
  readonly outDir: string;
}

const notFound = (m: string) => new EvidenceError('EVIDENCE_NOT_FOUND', m);
const sha = (b: Uint8Array) => toHex(sha256(b));

export async function exportEvidence(input: ExportEvidenceInput): Promise<{ files: string[]; statement: JsonObject }> {
  const { ledger } = input;
  if (existsSync(join(input.outDir, 'evidence.json'))) throw new EvidenceError('EVIDENCE_INVALID', `${input.outDir} already holds an evidence.json; choose a new folder`);
  if (!Number.isSafeInteger(input.verificationIndex) || input.verificationIndex < 0 || input.verificationIndex >= ledger.size()) throw notFound(`the ledger has no entry ${input.verificationIndex}`);
  const ve = ledger.get(input.verificationIndex);
  if (ve.entry.type !== VERIFICATION_RECORDED) throw notFound(`entry ${ve.index} is a ${ve.entry.type}, not a verification.recorded entry`);
  const record = readVerificationRecord(ve.entry.payload, `entry ${ve.index}`);
  const owner = parseSignerKey(input.ownerSignerKey);
  if (record.ownerKey !== owner.verifierKey) throw new EvidenceError('EVIDENCE_INVALID', `verification entry ${ve.index} was made for owner key ${record.ownerKey}, not this home's owner key`);
  const ce = ledger.get(record.commitment.index);
  if (ce.entry.type !== WATERMARK_COMMITTED) throw notFound(`verification entry ${ve.index} points at entry ${ce.index}, which is not watermark.committed`);
  const committed = readCommittedRecord(ce.entry.payload, `entry ${ce.index}`);
  let opening;
  try {
    opening = readRevealedOpening(input.opening, committed, owner.publicKey, `the opening for entry ${ce.index}`);
  } catch (err) {
    throw new EvidenceError('EVIDENCE_INVALID', `${(err as Error).message} (wrong secret for this verification?)`, { cause: err });
  }
  const commitCp = ledger.checkpointCovering(ce.index);
  if (!commitCp) throw notFound(`no signed checkpoint covers the commitment entry ${ce.index}`);
  const cp = ledger.checkpoint();

  const all: LineageEntry[] = [];
  for (const type of LINEAGE_TYPES) scanEntries(ledger, type, (e) => void (e.index < cp.size && e.index !== ce.index && all.push(e)));
  all.push(ce);
  const closure = closeLineage(all, record.model, false);
  if (!closure.models.has(committed.model)) throw new EvidenceError('EVIDENCE_INVALID', `the commitment of entry ${ce.index} is for ${committed.model}, which is not in the lineage of ${record.model}`);
  const indices = [...closure.indices, ve.index];
  const model = findModel(ledger, record.model)!;

  const timestamps = pickTimestamps(input.timestamps ?? [], ledger, cp.size, [ce.index, ve.index]);
  const reportInput = {
    modelName: model.record.model.name, modelId: record.model, verification: record, verificationIndex: ve.index, verificationTime: ve.entry.time,
    committed, commitmentIndex: ce.index, commitmentTime: ce.entry.time, commitmentCheckpointSize: commitCp.size, markedTime: model.time,
    ownerKey: owner.verifierKey, logOrigin: ledger.origin, logKey: ledger.verifierKey, checkpointSize: cp.size,
    timestamps: datedTimestamps(timestamps),
  };
  const pdf = await renderReportPdf(reportInput);
  const verifyMd = new TextEncoder().encode(renderVerifyMd({ logKey: ledger.verifierKey, ownerKey: owner.verifierKey, suspect: record.suspect.kind === 'file' ? record.suspect.descriptor.name : undefined }));

  const suspectSubject: JsonObject = record.suspect.kind === 'file'
    ? { name: record.suspect.descriptor.name, digest: { sha256: record.suspect.descriptor.digest.sha256 }, annotations: { 'hallmark.role': 'suspect' } }
    : { name: record.suspect.url, digest: { sha256: sha(new TextEncoder().encode(record.suspect.url)) }, annotations: { 'hallmark.role': 'suspect-endpoint', protocol: record.suspect.protocol } };
  const statement: JsonObject = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [suspectSubject, { name: model.record.model.name, digest: { sha256: model.record.model.digest.sha256 }, annotations: { 'hallmark.role': 'marked-model', 'hallmark.id': record.model } }],
    predicateType: EVIDENCE_PREDICATE,
    predicate: {
      format: EVIDENCE_FORMAT,
      owner: { verifierKey: owner.verifierKey, name: owner.name },
      log: { origin: ledger.origin, verifierKey: ledger.verifierKey },
      checkpoint: cp.note,
      commitmentCheckpoint: commitCp.note,
      consistency: { ...proveConsistency(ledger, commitCp, cp) },
      entries: proveEntries(ledger, indices, cp.size) as unknown as JsonObject[],
      commitment: { index: ce.index, opening: encodeOpening(opening) },
      verification: { index: ve.index },
      timestamps: timestamps as unknown as JsonObject[],
      files: { 'report.pdf': { sha256: sha(pdf) }, 'VERIFY.md': { sha256: sha(verifyMd) } },
    },
  };
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(statement), [{ keyid: dsseKeyId(owner), seed: owner.seed }]);
  mkdirSync(input.outDir, { recursive: true });
  const files = [join(input.outDir, 'evidence.json'), join(input.outDir, 'report.pdf'), join(input.outDir, 'VERIFY.md')];
  writeFileSync(files[1]!, pdf, { flag: 'wx' });
  writeFileSync(files[2]!, verifyMd, { flag: 'wx' });
  writeFileSync(files[0]!, formatBundleJson(envelope), { flag: 'wx' });
  return { files, statement };
}

/** genTime of each token, read (not trusted) for the report's timeline; verify checks them. */
function datedTimestamps(ts: readonly { checkpoint: string; token: string }[]): { size: number; genTime: string; signer: string }[] {
  return ts.map((t) => {
    const { signed, tst } = parseToken(new Uint8Array(Buffer.from(t.token, 'base64')));
    const cert = (signed.certificates ?? [])[0];
    const size = Number(t.checkpoint.split('\n')[1]);
    return { size, genTime: tst.genTime.toISOString(), signer: cert && 'subject' in cert ? nameOf(cert) : 'TSA' };
  });
}
