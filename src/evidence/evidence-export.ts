// hallmark evidence export: evidence.json (a DSSE-signed in-toto statement holding every entry,
// proof, checkpoint, the commitment opening and the revealed secret), report.pdf and VERIFY.md.
// The statement carries the SHA-256 of the other two files, so no byte of the folder is unsigned.
// Export refuses to write what `evidence verify` would reject: the records must be signed by an
// entitled key, the commitment sealed before the verification, and the finished folder is run
// through verifyEvidence before it is moved into place; then evidence.exported is appended.
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { canonicalJsonBytes, toHex, type JsonObject, type Ledger } from '../../ledger/index.js';
import { encodeOpening } from '../core/index.js';
import { findModel, scanEntries } from '../lineage/index.js';
import { parseToken, type StoredTimestamp } from '../tsa/index.js';
import { nameOf } from '../tsa/verify-token.js';
import { pickTimestamps } from './bundle-timestamps.js';
import { appendRecord, evidenceExported, EVIDENCE_EXPORTED_SCHEMA, readRecordAt, RecordError, verificationRecorded, watermarkCommitted, type TrustedKeys, type Verified, type VerificationRecord } from '../records/index.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.js';
import { EvidenceError } from './errors.js';
import { closeLineage, LINEAGE_TYPES, type LineageEntry } from './lineage-closure.js';
import { proveConsistency, proveEntries } from './log-proofs.js';
import { dsseKeyId, parseSignerKey } from './owner-key.js';
import { buildFingerprintSection } from './fingerprint-section.js';
import { exportGuardEvidence, isGuardVerificationAt } from './guard-section.js';
import type { Mark } from '../guard/mark-journal.js';
import { renderReportPdf } from './report-pdf.js';
import { readRevealedOpening } from './secret-material.js';
import { formatBundleJson } from './strict-json.js';
import { renderVerifyMd } from './verify-md.js';
import { buildWitnessed } from './witnessed.js';

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
  /** Keys entitled to sign records (default: the owner's key only). */
  readonly trust?: TrustedKeys;
  /** A verification that tested a fingerprint: its decrypted opening, to reveal the set in the bundle
   *  (a dispute: a third party can query the suspect with it). Omitted: the set stays secret. */
  readonly fingerprintOpening?: unknown;
  /** Actor of the evidence.exported entry (default "hallmark-evidence"). */
  readonly actor?: string;
  /** issue 15: the home's tlog-policy and published (cosigned) checkpoint (src/witness homeWitnessing). */
  readonly witnessing?: { policy: string; published: string };
  /** issue 12: a guard-form verification: the claimed clients' decrypted watermark sets (guard-section.ts revealGuardSets). */
  readonly guardMarks?: ReadonlyMap<string, readonly Mark[]>;
}

const notFound = (m: string) => new EvidenceError('EVIDENCE_NOT_FOUND', m);
const sha = (b: Uint8Array) => toHex(sha256(b));

export interface ExportedEvidence {
  files: string[];
  statement: JsonObject;
  exportedIndex: number;
  /** The size of the witnessed checkpoint the bundle carries, when the home publishes through witnesses. */
  witnessedSize?: number;
  /** A guard-mark bundle: the clients whose watermark sets it reveals. */
  revealed?: string[];
}

export async function exportEvidence(input: ExportEvidenceInput): Promise<ExportedEvidence> {
  const { ledger } = input;
  if (existsSync(join(input.outDir, 'evidence.json'))) throw new EvidenceError('EVIDENCE_INVALID', `${input.outDir} already holds an evidence.json; choose a new folder`);
  // issue 12: a guard-mark verification has its own bundle shape (guard-section.ts).
  if (isGuardVerificationAt(ledger, input.verificationIndex)) return exportGuardEvidence(input, writeChecked);
  const owner = parseSignerKey(input.ownerSignerKey);
  const trust = input.trust ?? { owner: owner.verifierKey };
  if (trust.owner !== owner.verifierKey) throw new TypeError('trust.owner must be the key that signs the evidence');
  const verified = readChecked(() => readRecordAt(ledger, input.verificationIndex, verificationRecorded, trust), 'verification');
  const record = verified.record;
  const ve = ledger.get(verified.index);
  const ce = ledger.get(record.commitment.index);
  const committed = readChecked(() => readRecordAt(ledger, record.commitment.index, watermarkCommitted, trust), 'commitment').record;
  if (committed.commitment !== record.commitment.commitment) throw new EvidenceError('EVIDENCE_INVALID', `verification entry ${ve.index} names another commitment digest than entry ${ce.index} holds`);
  let opening;
  try {
    opening = readRevealedOpening(input.opening, committed, owner.publicKey, `the opening for entry ${ce.index}`);
  } catch (err) {
    throw new EvidenceError('EVIDENCE_INVALID', `${(err as Error).message} (wrong secret for this verification?)`, { cause: err });
  }
  const commitCp = ledger.checkpointCovering(ce.index);
  if (!commitCp || commitCp.size > ve.index) {
    throw new EvidenceError('EVIDENCE_UNSEALED', `commitment entry ${ce.index} was not sealed by a signed checkpoint before verification entry ${ve.index}${commitCp ? ` (the first checkpoint covering it has size ${commitCp.size})` : ''}, so "evidence verify" would reject this evidence; run "hallmark ledger checkpoint", then "hallmark verify <suspect>" again, and export the new verification.recorded entry (hallmark embed seals its commitment itself)`);
  }
  const cp = ledger.checkpoint();

  const all: LineageEntry[] = [];
  for (const type of LINEAGE_TYPES) scanEntries(ledger, type, (e) => void (e.index < cp.size && e.index !== ce.index && all.push(e)));
  all.push(ce);
  const closure = closeLineage(all, record.model, false);
  if (!closure.models.has(committed.model)) throw new EvidenceError('EVIDENCE_INVALID', `the commitment of entry ${ce.index} is for ${committed.model}, which is not in the lineage of ${record.model}`);
  const fp = record.fingerprint ? await buildFingerprintSection({ ledger, record, verificationIndex: ve.index, cp, trust, opening: input.fingerprintOpening }) : undefined;
  if (!fp && input.fingerprintOpening !== undefined) throw new EvidenceError('EVIDENCE_INVALID', `verification entry ${ve.index} tested no fingerprint; there is no fingerprint set to reveal`);
  const indices = [...closure.indices, ve.index, ...(fp?.indices ?? [])];
  const model = findModel(ledger, record.model)!;

  // The fingerprint commitment is dated too: `dispute` weighs a fingerprint by its earliest token (issue 13).
  const timestamps = pickTimestamps(input.timestamps ?? [], ledger, cp.size, [ce.index, ve.index, ...(record.fingerprint ? [record.fingerprint.commitment.index] : [])]);
  // The cosigned checkpoint and the policy ride inside the signed statement: the owner vouches for them.
  const witnessed = buildWitnessed(ledger, input.witnessing, cp.size);
  const reportInput = {
    modelName: model.record.model.name, modelId: record.model, verification: record, verificationIndex: ve.index, verificationTime: ve.entry.time,
    committed, commitmentIndex: ce.index, commitmentTime: ce.entry.time, commitmentCheckpointSize: commitCp.size, markedTime: model.time,
    ownerKey: owner.verifierKey, logOrigin: ledger.origin, logKey: ledger.verifierKey, checkpointSize: cp.size,
    timestamps: datedTimestamps(timestamps),
    recordSigner: { key: verified.signer!.key, as: verified.signer!.as, actor: verified.actor },
  };
  const pdf = await renderReportPdf(reportInput);
  const verifyMd = new TextEncoder().encode(renderVerifyMd({ logKey: ledger.verifierKey, ownerKey: owner.verifierKey, suspect: record.suspect.kind === 'file' ? record.suspect.descriptor.name : undefined, witnessed: witnessed !== undefined }));

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
      // A verification signed by a service key: the owner's signature over this statement vouches for it.
      ...(verified.signer!.as === 'service' ? { serviceKeys: [verified.signer!.key] } : {}),
      log: { origin: ledger.origin, verifierKey: ledger.verifierKey },
      checkpoint: cp.note,
      commitmentCheckpoint: commitCp.note,
      consistency: { ...proveConsistency(ledger, commitCp, cp) },
      entries: proveEntries(ledger, indices, cp.size) as unknown as JsonObject[],
      commitment: { index: ce.index, opening: encodeOpening(opening) },
      verification: { index: ve.index },
      timestamps: timestamps as unknown as JsonObject[],
      ...(fp ? { fingerprint: fp.section } : {}),
      files: { 'report.pdf': { sha256: sha(pdf) }, 'VERIFY.md': { sha256: sha(verifyMd) } },
      ...(witnessed ? { witnessed: witnessed as unknown as JsonObject } : {}),
    },
  };
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(statement), [{ keyid: dsseKeyId(owner), seed: owner.seed }]);
  const json = new TextEncoder().encode(formatBundleJson(envelope));
  const files = await writeChecked(input.outDir, [['report.pdf', pdf], ['VERIFY.md', verifyMd], ['evidence.json', json]], { logKey: ledger.verifierKey, ownerKey: owner.verifierKey });
  const exported = appendRecord(ledger, evidenceExported, {
    schema: EVIDENCE_EXPORTED_SCHEMA, verification: ve.index, commitment: ce.index, checkpointSize: cp.size,
    files: { 'evidence.json': { sha256: sha(json) }, 'report.pdf': { sha256: sha(pdf) }, 'VERIFY.md': { sha256: sha(verifyMd) } },
  }, owner, input.actor ?? 'hallmark-evidence');
  const witnessedSize = witnessed ? Number(witnessed.checkpoint.split('\n')[1]) : undefined;
  return { files: [files[2]!, files[0]!, files[1]!], statement, exportedIndex: exported.index, ...(witnessedSize !== undefined ? { witnessedSize } : {}) };
}

/** A record the export relies on that fails its check is the caller's problem to fix: say which. */
function readChecked<T>(read: () => Verified<T>, what: string): Verified<T> {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    if (err.code === 'RECORD_NOT_FOUND') throw notFound(`the ${what}: ${err.message}`);
    throw new EvidenceError('EVIDENCE_INVALID', `the ${what} record cannot go into evidence: ${err.message}`, { cause: err });
  }
}

/**
 * Writes the files into a private folder beside outDir, runs the offline verifier over it, and
 * only then moves them into outDir: evidence that would not verify is never left behind.
 */
async function writeChecked(outDir: string, files: [string, Uint8Array][], keys: { logKey: string; ownerKey: string }): Promise<string[]> {
  const out = resolve(outDir);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.partial-${randomBytes(6).toString('hex')}`);
  mkdirSync(tmp, { mode: 0o700 });
  try {
    for (const [name, bytes] of files) writeFileSync(join(tmp, name), bytes, { flag: 'wx', mode: 0o600 });
    const { verifyAnyEvidence } = await import('./evidence-verify.js');
    try {
      await verifyAnyEvidence(tmp, keys);
    } catch (err) {
      throw new EvidenceError('EVIDENCE_INVALID', `refusing to write evidence that "hallmark evidence verify" rejects: ${(err as Error).message}`, { cause: err });
    }
    mkdirSync(out, { recursive: true, mode: 0o700 });
    for (const [name] of files) if (existsSync(join(out, name))) throw new EvidenceError('EVIDENCE_INVALID', `${join(outDir, name)} already exists; choose a new folder`);
    for (const [name] of files) renameSync(join(tmp, name), join(out, name));
    return files.map(([name]) => join(outDir, name));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
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
