// The guard part of evidence (`evidence export` of a verification.recorded entry in its guard
// form, written by `verify --guard-client|--guard-all`). A guard verification names no marked
// model and no watermark commitment, so its bundle is the same signed in-toto statement with a
// `guard` section in place of `commitment`/lineage:
//   guard.serviceKeys   the keys that signed the guard.committed entries (the guard's own key,
//                       vouched for by the owner's signature over the statement);
//   guard.appearances   proven entries that name the suspect (the after-the-fact rule);
//   guard.clients[]     for each client of the claim only: the guard.committed entry (proven),
//                       the first signed checkpoint sealing it (with a consistency proof to the
//                       bundle's checkpoint), the guard.calibrated entry used for the null, and
//                       the revealed watermark set: every mark's input, the label given, its salt,
//                       and the RFC 6962 audit path that ties its leaf to the committed root.
// Revealing a set reveals that client's inputs: only the clients named in the claim are revealed;
// other clients' sets, the true labels and the guard key never enter the bundle.
// guard-check.ts verifies all of it offline.
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJsonBytes, hashChildren, hashLeaf, toHex, type JsonObject, type Ledger, type SignedCheckpoint } from '../../ledger/index.js';
import { scanEntries } from '../lineage/index.js';
import { appendRecord, evidenceExported, EVIDENCE_EXPORTED_SCHEMA, guardCalibrated, guardCommitted, guardVerificationRecorded, readRecordAt, RecordError, type GuardVerificationRecord, type TrustedKeys, type Verified } from '../records/index.js';
import type { Mark } from '../guard/mark-journal.js';
import { pickTimestamps } from './bundle-timestamps.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from './dsse.js';
import { EvidenceError } from './errors.js';
import { namesSuspect } from './fingerprint-check.js';
import { guardClose, guardNullRate } from './guard-check.js';
import { binomialTail } from './statistics.js';
import { proveConsistency, proveEntries } from './log-proofs.js';
import { dsseKeyId, parseSignerKey } from './owner-key.js';
import { formatBundleJson } from './strict-json.js';
import { buildWitnessed } from './witnessed.js';
import type { StoredTimestamp } from '../tsa/index.js';

const invalid = (m: string, cause?: unknown) => new EvidenceError('EVIDENCE_INVALID', m, cause === undefined ? undefined : { cause });
const MAX_APPEARANCES = 1000;

function read<T>(f: () => Verified<T>, what: string): Verified<T> {
  try {
    return f();
  } catch (err) {
    if (err instanceof RecordError) {
      if (err.code === 'RECORD_NOT_FOUND') throw new EvidenceError('EVIDENCE_NOT_FOUND', `the ${what}: ${err.message}`);
      throw invalid(`the ${what} cannot go into evidence: ${err.message}`, err);
    }
    throw err;
  }
}

/** Whether the entry at `index` is a verification.recorded in its guard form (read without trust: the export checks it). */
export function isGuardVerificationAt(ledger: Ledger, index: number): boolean {
  if (!Number.isSafeInteger(index) || index < 0 || index >= ledger.size()) return false;
  const e = ledger.get(index).entry;
  return e.type === 'verification.recorded' && (e.payload as { method?: unknown }).method === 'guard';
}

/** The clients a guard claim rests on: those asked for, else the one with the smallest p-value (the decision's). */
export function claimedClients(record: GuardVerificationRecord, asked?: readonly string[]): string[] {
  const tested = record.guard.clients.map((c) => c.client);
  if (asked && asked.length > 0) {
    for (const c of asked) if (!tested.includes(c)) throw invalid(`client ${c.slice(0, 40)} was not tested by this verification (it tested ${tested.join(', ')})`);
    return [...new Set(asked)];
  }
  return [record.guard.clients.reduce((a, b) => (b.pValue < a.pValue ? b : a)).client];
}

/** RFC 6962 audit paths (leaf to root, as ledger verifyInclusion reads them) for every leaf, and the root. */
export function markAuditPaths(leaves: readonly Uint8Array[]): { root: Uint8Array; paths: Uint8Array[][] } {
  const hashes = leaves.map((l) => hashLeaf(l));
  const paths: Uint8Array[][] = leaves.map(() => []);
  const build = (from: number, to: number): Uint8Array => {
    if (to - from === 1) return hashes[from]!;
    let k = 1;
    while (k * 2 < to - from) k *= 2;
    const left = build(from, from + k);
    const right = build(from + k, to);
    for (let i = from; i < from + k; i++) paths[i]!.push(right);
    for (let i = from + k; i < to; i++) paths[i]!.push(left);
    return hashChildren(left, right);
  };
  return { root: build(0, leaves.length), paths };
}

const f32b64 = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');

/** A mark's leaf bytes (the same canonical JSON the guard commits: its input's digest, never the input). */
function leafBytes(m: Mark): Uint8Array {
  const inputSha256 = toHex(sha256(new Uint8Array(m.input.buffer, m.input.byteOffset, m.input.byteLength)));
  return canonicalJsonBytes({ v: 1, client: m.client, seq: m.seq, salt: m.salt, dims: [...m.dims], inputSha256, label: m.label, classes: m.classes });
}

export interface GuardSectionInput {
  readonly ledger: Ledger;
  readonly record: GuardVerificationRecord;
  readonly verificationIndex: number;
  readonly cp: SignedCheckpoint;
  readonly trust: TrustedKeys;
  /** The decrypted sets of the clients to reveal (at least the marks the tested commitment covers). */
  readonly marks: ReadonlyMap<string, readonly Mark[]>;
}

/** The predicate's `guard` section and the entry indices it needs proven. */
export function buildGuardSection(i: GuardSectionInput): { section: JsonObject; indices: number[]; commitments: number[] } {
  const indices: number[] = [];
  const commitments: number[] = [];
  const signers = new Set<string>();
  const clients: JsonObject[] = [];
  for (const [client, all] of [...i.marks].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const rc = i.record.guard.clients.find((c) => c.client === client);
    if (!rc) throw invalid(`client ${client.slice(0, 40)} was not tested by verification entry ${i.verificationIndex}`);
    const cIndex = rc.commitment.index;
    const c = read(() => readRecordAt(i.ledger, cIndex, guardCommitted, i.trust), `guard commitment of client ${client}`);
    if (c.record.client !== client || c.record.root !== rc.commitment.root || c.record.count !== rc.commitment.count) throw invalid(`verification entry ${i.verificationIndex} names another set than guard.committed entry ${cIndex} holds for client ${client}`);
    const seal = i.ledger.checkpointCovering(cIndex);
    if (!seal || seal.size > i.verificationIndex) throw new EvidenceError('EVIDENCE_UNSEALED', `guard commitment entry ${cIndex} was not sealed by a signed checkpoint before verification entry ${i.verificationIndex}`);
    const marks = all.slice(0, c.record.count);
    if (marks.length !== c.record.count || marks.some((m, k) => m.seq !== k || m.client !== client)) throw invalid(`the stored set of client ${client} does not hold the ${c.record.count} marks entry ${cIndex} committed`);
    const { root, paths } = markAuditPaths(marks.map(leafBytes));
    if (toHex(root) !== c.record.root) throw invalid(`the stored set of client ${client} does not hash to the root committed in entry ${cIndex}`);
    let calibration: JsonObject | undefined;
    let null_: { agreement: readonly number[]; cleanAccuracy: readonly number[] } | undefined;
    if (rc.calibration !== undefined) {
      const cal = read(() => readRecordAt(i.ledger, rc.calibration!, guardCalibrated, i.trust), `guard calibration of client ${client}`).record;
      const cc = cal.clients.find((x) => x.client === client && x.commitment === cIndex && x.count === c.record.count);
      if (!cc) throw invalid(`guard.calibrated entry ${rc.calibration} does not calibrate client ${client}'s set of entry ${cIndex}`);
      null_ = { agreement: cc.agreement, cleanAccuracy: cal.cleanAccuracy };
      calibration = { index: rc.calibration };
      indices.push(rc.calibration);
    }
    // Refused here, before the report is drawn, what evidence verify would refuse (guard-check.ts).
    const chance = guardNullRate(rc.classes, null_);
    const p = binomialTail(rc.n, chance, rc.matches);
    if (!guardClose(chance, rc.chanceRate) || !guardClose(p, rc.pValue)) throw invalid(`client ${client}: recorded chance ${rc.chanceRate} and p-value ${rc.pValue} differ from chance ${chance}, P[Binomial(${rc.n}, ${chance}) >= ${rc.matches}] = ${p}`);
    if (c.signer!.as === 'service') signers.add(c.signer!.key);
    indices.push(cIndex);
    commitments.push(cIndex);
    clients.push({
      client, commitment: { index: cIndex }, checkpoint: seal.note, consistency: { ...proveConsistency(i.ledger, seal, i.cp) },
      ...(calibration ? { calibration } : {}),
      marks: marks.map((m, k) => ({ seq: m.seq, salt: m.salt, dims: [...m.dims], input: f32b64(m.input), label: m.label, classes: m.classes, proof: paths[k]!.map(toHex) })),
    });
  }
  if (clients.length === 0) throw invalid('a guard claim reveals at least one client\'s set');
  const appearances: number[] = [];
  for (const type of ['model.registered', 'lineage.derived', 'verification.recorded']) {
    scanEntries(i.ledger, type, (e) => {
      if (e.index < i.cp.size && e.index !== i.verificationIndex && namesSuspect(e.entry, i.record.suspect)) appearances.push(e.index);
    });
  }
  appearances.sort((a, b) => a - b);
  const latest = Math.max(...commitments);
  if (appearances.length > 0 && appearances[0]! < latest) throw invalid(`the suspect appears at entry ${appearances[0]}, before guard commitment entry ${latest}: "evidence verify" refuses watermark sets committed after the fact`);
  const kept = appearances.slice(0, MAX_APPEARANCES);
  return { section: { serviceKeys: [...signers].sort(), appearances: kept, clients }, indices: [...indices, ...kept], commitments };
}

export interface ExportGuardInput {
  readonly ledger: Ledger;
  readonly verificationIndex: number;
  readonly ownerSignerKey: string;
  readonly trust?: TrustedKeys;
  readonly timestamps?: readonly StoredTimestamp[];
  readonly outDir: string;
  readonly actor?: string;
  readonly witnessing?: { policy: string; published: string };
  readonly guardMarks?: ReadonlyMap<string, readonly Mark[]>;
}

/** evidence export for a guard-form verification: statement, report.pdf, VERIFY.md, checked, then evidence.exported. */
export async function exportGuardEvidence(input: ExportGuardInput, write: (out: string, files: [string, Uint8Array][], keys: { logKey: string; ownerKey: string }) => Promise<string[]>) {
  const { ledger } = input;
  const owner = parseSignerKey(input.ownerSignerKey);
  const trust = input.trust ?? { owner: owner.verifierKey };
  if (trust.owner !== owner.verifierKey) throw new TypeError('trust.owner must be the key that signs the evidence');
  if (!input.guardMarks || input.guardMarks.size === 0) throw invalid(`verification entry ${input.verificationIndex} tested guard marks: the bundle needs the claimed client's revealed watermark set (decrypted from the home)`);
  const verified = read(() => readRecordAt(ledger, input.verificationIndex, guardVerificationRecorded, trust), 'guard verification');
  const record = verified.record;
  if (record.ownerKey !== owner.verifierKey) throw invalid(`verification entry ${input.verificationIndex} was made for another owner key`);
  const ve = ledger.get(verified.index);
  const cp = ledger.checkpoint();
  const g = buildGuardSection({ ledger, record, verificationIndex: ve.index, cp, trust, marks: input.guardMarks });
  const timestamps = pickTimestamps(input.timestamps ?? [], ledger, cp.size, [Math.min(...g.commitments), ve.index]);
  const witnessed = buildWitnessed(ledger, input.witnessing, cp.size);
  const { renderGuardReportPdf } = await import('./guard-report-pdf.js');
  const { renderVerifyMd } = await import('./verify-md.js');
  const sha = (b: Uint8Array) => toHex(sha256(b));
  const claimed = (g.section.clients as JsonObject[]).map((c) => c.client as string);
  const pdf = await renderGuardReportPdf({
    verification: record, verificationIndex: ve.index, verificationTime: ve.entry.time, claimed,
    commitments: claimed.map((client) => {
      const rc = record.guard.clients.find((c) => c.client === client)!;
      const e = ledger.get(rc.commitment.index).entry;
      return { client, index: rc.commitment.index, time: e.time, period: (e.payload as { period: { from: string; to: string } }).period };
    }),
    ownerKey: owner.verifierKey, logOrigin: ledger.origin, logKey: ledger.verifierKey, checkpointSize: cp.size,
    recordSigner: { key: verified.signer!.key, as: verified.signer!.as, actor: verified.actor },
  });
  const verifyMd = new TextEncoder().encode(renderVerifyMd({ logKey: ledger.verifierKey, ownerKey: owner.verifierKey, suspect: record.suspect.kind === 'file' ? record.suspect.descriptor.name : undefined, witnessed: witnessed !== undefined }));
  const statement: JsonObject = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [guardSuspectSubject(record)],
    predicateType: 'https://hallmark.dev/evidence/ownership/v1',
    predicate: {
      format: 'hallmark/evidence-bundle/v1',
      owner: { verifierKey: owner.verifierKey, name: owner.name },
      ...(verified.signer!.as === 'service' ? { serviceKeys: [verified.signer!.key] } : {}),
      log: { origin: ledger.origin, verifierKey: ledger.verifierKey },
      checkpoint: cp.note,
      entries: proveEntries(ledger, [ve.index, ...g.indices], cp.size) as unknown as JsonObject[],
      verification: { index: ve.index },
      timestamps: timestamps as unknown as JsonObject[],
      guard: g.section,
      files: { 'report.pdf': { sha256: sha(pdf) }, 'VERIFY.md': { sha256: sha(verifyMd) } },
      ...(witnessed ? { witnessed: witnessed as unknown as JsonObject } : {}),
    },
  };
  const envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(statement), [{ keyid: dsseKeyId(owner), seed: owner.seed }]);
  const json = new TextEncoder().encode(formatBundleJson(envelope));
  const files = await write(input.outDir, [['report.pdf', pdf], ['VERIFY.md', verifyMd], ['evidence.json', json]], { logKey: ledger.verifierKey, ownerKey: owner.verifierKey });
  const exported = appendRecord(ledger, evidenceExported, {
    schema: EVIDENCE_EXPORTED_SCHEMA, verification: ve.index, commitment: Math.min(...g.commitments), checkpointSize: cp.size,
    files: { 'evidence.json': { sha256: sha(json) }, 'report.pdf': { sha256: sha(pdf) }, 'VERIFY.md': { sha256: sha(verifyMd) } },
  }, owner, input.actor ?? 'hallmark-evidence');
  const witnessedSize = witnessed ? Number(witnessed.checkpoint.split('\n')[1]) : undefined;
  return { files: [files[2]!, files[0]!, files[1]!], statement, exportedIndex: exported.index, revealed: claimed, ...(witnessedSize !== undefined ? { witnessedSize } : {}) };
}

export function guardSuspectSubject(record: GuardVerificationRecord): JsonObject {
  return record.suspect.kind === 'file'
    ? { name: record.suspect.descriptor.name, digest: { sha256: record.suspect.descriptor.digest.sha256 }, annotations: { 'hallmark.role': 'suspect' } }
    : { name: record.suspect.url, digest: { sha256: toHex(sha256(new TextEncoder().encode(record.suspect.url))) }, annotations: { 'hallmark.role': 'suspect-endpoint', protocol: record.suspect.protocol } };
}

/**
 * The sets to reveal, decrypted from the home: for each claimed client, its journal's marks (the
 * verification's commitment covers a prefix of them). Only these clients' marks are returned.
 */
export async function revealGuardSets(home: { dir: string; ledger: Ledger; trust: TrustedKeys }, passphrase: string, verificationIndex: number, clients?: readonly string[]): Promise<Map<string, Mark[]>> {
  const record = read(() => readRecordAt(home.ledger, verificationIndex, guardVerificationRecorded, home.trust), 'guard verification').record;
  const wanted = claimedClients(record, clients);
  const { openGuardKeys } = await import('../guard/guard-key.js');
  const { readJournal } = await import('../guard/mark-journal.js');
  const keys = await openGuardKeys(home.dir, passphrase);
  const { marks } = readJournal(home.dir, keys.journal);
  return new Map(wanted.map((c) => [c, marks.get(c) ?? []]));
}
