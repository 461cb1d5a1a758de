// hallmark evidence verify: every signature, proof and the commitment opening of an evidence
// folder, offline. The first failure throws EVIDENCE_VERIFY_FAILED naming the check.
import { sha256 } from '@noble/hashes/sha2.js';
import type * as pkijs from 'pkijs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, toHex, type JsonValue } from '../../ledger/index.js';
import { verifyBundleTimestamps, type VerifiedTimestamp } from './bundle-timestamps.js';
import { RecordError, verificationRecorded, verifyRecordEntry, watermarkCommitted, type CommittedRecord, type TrustedKeys, type Verified } from '../records/index.js';
import { IN_TOTO_PAYLOAD_TYPE, readEnvelope, verifyEnvelope } from './dsse.js';
import { EvidenceError, failed, malformed } from './errors.js';
import { EVIDENCE_FORMAT, EVIDENCE_PREDICATE } from './evidence-export.js';
import { checkFingerprintSection, fingerprintSectionIndices, type FingerprintEvidence } from './fingerprint-check.js';
import { isGuardPredicate, type GuardEvidenceResult } from './guard-check.js';
import { closeLineage, LINEAGE_TYPES } from './lineage-closure.js';
import { openLogCheckpoint, verifyCheckpointConsistency, verifyProvenEntries, type VerifiedCheckpoint, type VerifiedEntry } from './log-proofs.js';
import { parsePolicy } from '../witness/index.js';
import { dsseKeyId, parseVerifierKey } from './owner-key.js';
import type { ReExtraction } from './re-extract.js';
import { formatReExtraction } from './re-extract-format.js';
import { readRevealedOpening } from './secret-material.js';
import { arr, int, obj, parseBundleJson, str } from './strict-json.js';
import { verifyWitnessed, type VerifiedWitnessing } from './witnessed.js';
import type { VerificationRecord } from '../records/index.js';
import type { Entry } from '../../ledger/index.js';
import type { CommitmentOpening } from '../core/index.js';

const MAX_EVIDENCE_BYTES = 64 << 20;
const MAX_FILE_BYTES = 256 << 20;

export interface VerifyEvidenceOptions {
  readonly logKey?: string;
  readonly ownerKey?: string;
  readonly tsaCaCerts?: readonly pkijs.Certificate[];
  /** Path of the suspect file, to compare its digest (and re-run extraction). */
  readonly suspect?: string;
  /**
   * issue 15: a tlog-policy text obtained independently. The bundle must then carry a checkpoint
   * cosigned per this policy (not the one in the bundle) that covers the commitment entry.
   */
  readonly policy?: string;
}

export interface EvidenceResult {
  readonly model: string;
  readonly ownerKey: string;
  readonly logKey: string;
  readonly pinned: { owner: boolean; log: boolean };
  readonly checkpointSize: number;
  readonly commitmentCheckpointSize: number;
  readonly commitmentIndex: number;
  readonly verificationIndex: number;
  readonly committed: CommittedRecord;
  /** The revealed commitment opening (checked against the commitment and the owner key). */
  readonly opening: CommitmentOpening;
  readonly verification: VerificationRecord;
  readonly timestamps: VerifiedTimestamp[];
  readonly checks: string[];
  /** Who signed the verification record, as whom, and the actor it names. */
  readonly recordSigner: { readonly key: string; readonly as: 'owner' | 'service'; readonly actor: string };
  readonly suspectDigestMatches?: boolean;
  /** Every number recomputed from the suspect file, when one was given. */
  readonly reExtraction?: ReExtraction;
  /** issue 15: the cosigned checkpoint the bundle carries, checked against the policy. */
  readonly witnessing?: VerifiedWitnessing & { readonly quorum: string; readonly coversCommitment: boolean; readonly coversVerification: boolean };
  /** The fingerprint result, proven and recomputed (fingerprint-check.ts). */
  readonly fingerprint?: FingerprintEvidence;
  /** Every proven entry of the bundle, in index order (dispute.ts dates the claimant's first appearances from them). */
  readonly proven: readonly VerifiedEntry[];
}

const sha = (b: Uint8Array) => toHex(sha256(b));

function readFileBounded(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw failed(`${what} is missing`);
  if (statSync(path).size > MAX_FILE_BYTES) throw malformed(`${what} is larger than ${MAX_FILE_BYTES} bytes`);
  return new Uint8Array(readFileSync(path));
}

/** The owner-signed statement of an evidence folder: envelope, owner signature, canonical form. */
export function openEvidenceStatement(dir: string, options: VerifyEvidenceOptions = {}): { owner: ReturnType<typeof parseVerifierKey>; stmt: Record<string, unknown>; checks: string[] } {
  const checks: string[] = [];
  const envText = Buffer.from(readFileBounded(join(dir, 'evidence.json'), 'evidence.json')).toString('utf8');
  const env = readEnvelope(parseBundleJson(envText, 'evidence.json', MAX_EVIDENCE_BYTES), 'evidence.json envelope');
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw failed(`evidence.json payloadType is "${env.payloadType.slice(0, 80)}", want ${IN_TOTO_PAYLOAD_TYPE}`);
  if (env.signatures.length !== 1) throw failed('evidence.json must carry exactly one signature');
  // The owner key: pinned by the caller, else the one the statement names (read before checking).
  const unverified = Buffer.from(env.payload, 'base64').toString('utf8');
  let named: unknown;
  try {
    named = (JSON.parse(unverified) as { predicate?: { owner?: { verifierKey?: unknown } } }).predicate?.owner?.verifierKey;
  } catch {
    named = undefined;
  }
  const owner = parseVerifierKey(options.ownerKey ?? str(named, 'statement owner key', 500));
  const body = verifyEnvelope(env, { keyid: dsseKeyId(owner), publicKey: owner.publicKey }, 'evidence.json');
  checks.push(`owner signature (DSSE, Ed25519) by ${owner.verifierKey}`);
  const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  const stmt = obj(JSON.parse(text) as unknown, 'statement', ['_type', 'subject', 'predicateType', 'predicate']);
  if (canonicalJson(stmt as JsonValue) !== text) throw malformed('the statement is not canonical JSON');
  if (stmt._type !== 'https://in-toto.io/Statement/v1' || stmt.predicateType !== EVIDENCE_PREDICATE) throw malformed('the statement is not a Hallmark ownership evidence statement');
  return { owner, stmt, checks };
}

/** Either kind of bundle: a mark claim (verifyEvidence) or a guard-mark claim (guard-check.ts). */
export async function verifyAnyEvidence(dir: string, options: VerifyEvidenceOptions = {}): Promise<EvidenceResult | GuardEvidenceResult> {
  const opened = openEvidenceStatement(dir, options);
  if (isGuardPredicate(opened.stmt.predicate)) return (await import('./guard-check.js')).checkGuardStatement(dir, opened, options);
  return verifyEvidence(dir, options);
}

export async function verifyEvidence(dir: string, options: VerifyEvidenceOptions = {}): Promise<EvidenceResult> {
  const { owner, stmt, checks } = openEvidenceStatement(dir, options);
  if (isGuardPredicate(stmt.predicate)) throw failed('this bundle holds a guard-mark claim (no marked model or watermark commitment): "hallmark evidence verify" checks it (verifyAnyEvidence)');
  const p = obj(stmt.predicate, 'predicate', ['format', 'owner', 'log', 'checkpoint', 'commitmentCheckpoint', 'consistency', 'entries', 'commitment', 'verification', 'timestamps', 'files'], ['serviceKeys', 'witnessed', 'fingerprint']);
  const serviceKeys = p.serviceKeys === undefined ? [] : arr(p.serviceKeys, 'predicate.serviceKeys', 4).map((k, i) => str(k, `service key ${i + 1}`, 500));
  if (p.format !== EVIDENCE_FORMAT) throw new EvidenceError('EVIDENCE_UNSUPPORTED_VERSION', `evidence format "${String(p.format).slice(0, 80)}" is not supported; this reader knows ${EVIDENCE_FORMAT}`);
  const po = obj(p.owner, 'predicate.owner', ['verifierKey', 'name']);
  if (po.verifierKey !== owner.verifierKey) throw failed('the statement names a different owner key than the one that signed it');

  const files = obj(p.files, 'predicate.files', ['report.pdf', 'VERIFY.md']);
  for (const f of ['report.pdf', 'VERIFY.md'] as const) {
    const want = obj(files[f], `predicate.files["${f}"]`, ['sha256']).sha256;
    if (sha(readFileBounded(join(dir, f), f)) !== want) throw failed(`${f} does not match the SHA-256 in the signed statement (the file was changed)`);
  }
  checks.push('report.pdf and VERIFY.md match their signed digests');

  const log = obj(p.log, 'predicate.log', ['origin', 'verifierKey']);
  const logKey = parseVerifierKey(options.logKey ?? str(log.verifierKey, 'log key', 500)).verifierKey;
  if (log.verifierKey !== logKey) throw failed('the statement names a different log key than the one given (--pubkey)');
  const cp = openLogCheckpoint(p.checkpoint, logKey, 'current checkpoint');
  const cp0 = openLogCheckpoint(p.commitmentCheckpoint, logKey, 'commitment-time checkpoint');
  if (cp.origin !== log.origin) throw failed('the checkpoint is for another log origin');
  verifyCheckpointConsistency(p.consistency, cp0, cp, 'consistency proof');
  checks.push(`checkpoints of size ${cp0.size} and ${cp.size} signed by the log; consistency proof between them`);
  const entries = verifyProvenEntries(p.entries, cp, 'entries');
  checks.push(`${entries.length} entries: canonical bytes, inclusion proofs, chain links`);

  const vIndex = int(obj(p.verification, 'predicate.verification', ['index']).index, 'verification index');
  const ve = entries.find((e) => e.index === vIndex);
  if (!ve) throw failed(`entry ${vIndex} (the verification) is not among the proven entries`);
  const trust: TrustedKeys = { owner: owner.verifierKey, service: serviceKeys };
  const vr = checkSigned(ve.entry, verificationRecorded, trust);
  const record = vr.record;
  checks.push(`verification entry ${vIndex} signed by ${vr.signer!.as === 'owner' ? 'the owner' : 'a service key the owner lists'} (${vr.signer!.key.split('+').slice(0, 2).join('+')}), actor ${vr.actor}`);
  if (record.ownerKey !== owner.verifierKey) throw failed(`verification entry ${vIndex} was made for another owner key`);
  const c = obj(p.commitment, 'predicate.commitment', ['index', 'opening']);
  const cIndex = int(c.index, 'commitment index');
  if (cIndex !== record.commitment.index) throw failed(`the verification used commitment entry ${record.commitment.index}, the bundle opens entry ${cIndex}`);
  const ce = entries.find((e) => e.index === cIndex);
  if (!ce) throw failed(`entry ${cIndex} (the commitment) is not among the proven entries`);
  const committed = checkSigned(ce.entry, watermarkCommitted, trust).record;
  if (committed.commitment !== record.commitment.commitment) throw failed(`the verification names commitment ${record.commitment.commitment.slice(0, 16)}…, entry ${cIndex} holds another`);
  if (committed.ownerKey !== owner.verifierKey) throw failed(`commitment entry ${cIndex} was made by another owner key`);
  if (!(cIndex < cp0.size)) throw failed(`the commitment-time checkpoint (size ${cp0.size}) does not cover commitment entry ${cIndex}`);
  if (!(cp0.size <= vIndex)) throw failed(`the commitment was not sealed before the verification: checkpoint size ${cp0.size} > verification entry ${vIndex}`);
  checks.push(`commitment entry ${cIndex} sealed by checkpoint ${cp0.size}, before verification entry ${vIndex}`);

  const opening = readRevealedOpening(c.opening, committed, owner.publicKey, 'the commitment opening');
  if (canonicalJson(opening.parameters) !== canonicalJson(committed.parameters)) throw failed('the opening names other parameters than the commitment entry');
  checks.push('commitment opening and revealed secret (owner signature over the model id) check out');

  // The fingerprint section's own entries (its commitment, calibration, the suspect's appearances) are checked by fingerprint-check.ts.
  const fpOnly = new Set(fingerprintSectionIndices(p.fingerprint));
  const lineage = entries.filter((e) => e.index !== vIndex && !(fpOnly.has(e.index) && !(LINEAGE_TYPES as readonly string[]).includes(e.entry.type)));
  const closure = closeLineage(lineage, record.model, true);
  if (!closure.models.has(committed.model)) throw failed(`the marked model ${record.model} does not descend from ${committed.model}, the committed model`);
  checks.push(`lineage: ${record.model} descends from the committed model through ${closure.derivations.length} derivation(s)`);

  const subjects = arr(stmt.subject, 'subject', 4) as { name?: unknown; digest?: { sha256?: unknown } }[];
  const marked = closure.models.get(record.model)!;
  const wantSubjects = [
    record.suspect.kind === 'file'
      ? { name: record.suspect.descriptor.name, digest: { sha256: record.suspect.descriptor.digest.sha256 }, annotations: { 'hallmark.role': 'suspect' } }
      : { name: record.suspect.url, digest: { sha256: sha(new TextEncoder().encode(record.suspect.url)) }, annotations: { 'hallmark.role': 'suspect-endpoint', protocol: record.suspect.protocol } },
    { name: marked.record.model.name, digest: { sha256: marked.record.model.digest.sha256 }, annotations: { 'hallmark.role': 'marked-model', 'hallmark.id': record.model } },
  ];
  if (canonicalJson(subjects as unknown as JsonValue) !== canonicalJson(wantSubjects as unknown as JsonValue)) throw failed('the statement subject does not match the verified suspect and model');

  const timestamps = await verifyBundleTimestamps(p.timestamps, logKey, cp, options.tsaCaCerts);
  if (timestamps.length > 0) checks.push(`${timestamps.length} RFC 3161 timestamp(s)${options.tsaCaCerts ? ', chains to the given CA' : ' (chain not checked: pass --tsa-ca)'}`);

  const witnessing = checkWitnessing(p.witnessed, cp, logKey, cIndex, vIndex, options.policy);
  if (witnessing) checks.push(formatWitnessing(witnessing, cIndex, vIndex));

  let reExtraction: ReExtraction | undefined;
  if (options.suspect !== undefined) {
    // Loaded only here: it pulls in the model formats and, for trigger queries, onnxruntime / TF.js.
    const { reExtractSuspect } = await import('./re-extract.js');
    reExtraction = await reExtractSuspect({ suspect: options.suspect, record, opening, ownerPublicKey: owner.publicKey });
    checks.push(`suspect file model digest matches the record (${reExtraction.format})`);
    const n = reExtraction.compared.length;
    checks.push(`re-extraction with the revealed secret${reExtraction.classifier ? ` (trigger queries by ${reExtraction.classifier})` : ''}: ${n} recorded number(s) recomputed and equal${reExtraction.skipped.length ? `; ${reExtraction.skipped.length} test(s) not re-run` : ''}`);
  }
  // After re-extraction: the suspect file's digest has been checked against the record by then.
  const fingerprint = await checkFingerprintSection(p.fingerprint, { entries, cp, logKey, ownerKey: owner.verifierKey, trust, record, verificationIndex: vIndex, ...(options.suspect === undefined ? {} : { suspectPath: options.suspect }) });
  if (fingerprint) checks.push(...fingerprint.checks);
  return {
    model: record.model, ownerKey: owner.verifierKey, logKey, pinned: { owner: options.ownerKey !== undefined, log: options.logKey !== undefined },
    recordSigner: { key: vr.signer!.key, as: vr.signer!.as, actor: vr.actor }, opening,
    checkpointSize: cp.size, commitmentCheckpointSize: cp0.size, commitmentIndex: cIndex, verificationIndex: vIndex, committed, verification: record,
    timestamps, checks, proven: entries, ...(reExtraction ? { suspectDigestMatches: true, reExtraction } : {}), ...(witnessing ? { witnessing } : {}), ...(fingerprint ? { fingerprint: fingerprint.result } : {}),
  };
}

type Witnessing = NonNullable<EvidenceResult['witnessing']>;

/**
 * The cosigned checkpoint (signed by the owner with the rest of the statement): its cosignatures
 * against the policy's witness keys, the quorum, and consistency with the bundle's checkpoint, so
 * every proven entry below its size is in the tree the witnesses saw. With a policy given by the
 * verifier, the bundle must be witnessed per that policy and the commitment entry covered.
 */
function checkWitnessing(v: unknown, cp: VerifiedCheckpoint, logKey: string, cIndex: number, vIndex: number, policy: string | undefined): Witnessing | undefined {
  if (v === undefined) {
    if (policy !== undefined) throw failed('a policy was given (--policy) but the bundle carries no witnessed checkpoint');
    return undefined;
  }
  const w = verifyWitnessed(v, cp, logKey, policy);
  const quorum = parsePolicy(policy ?? (v as { policy: string }).policy).quorum;
  const r = { ...w, quorum, coversCommitment: cIndex < w.size, coversVerification: vIndex < w.size };
  if (policy !== undefined && !r.coversCommitment) throw failed(`the witnessed checkpoint (size ${w.size}) does not cover the commitment entry ${cIndex}; publish a newer checkpoint ("hallmark ledger publish") and export again`);
  return r;
}

function formatWitnessing(w: Witnessing, cIndex: number, vIndex: number): string {
  const who = w.witnesses.map((x) => x.witness).join(', ') || 'nobody';
  const covers = w.coversVerification ? `the commitment (entry ${cIndex}) and the verification (entry ${vIndex})` : w.coversCommitment ? `the commitment (entry ${cIndex}); the verification (entry ${vIndex}) came after it` : `neither the commitment (entry ${cIndex}) nor the verification`;
  return `witnessed: checkpoint of size ${w.size} cosigned by ${who}, quorum "${w.quorum}" met${w.policyPinned ? ' (the policy you gave)' : ' (policy from the bundle, signed by the owner; pass --policy to pin it)'}; it covers ${covers}`;
}

/** A record in a bundle: schema, signature and signer checked as a ledger reader does. */
function checkSigned<T>(entry: Entry, rt: { type: string } & Parameters<typeof verifyRecordEntry<T>>[1], trust: TrustedKeys): Verified<T> {
  try {
    return verifyRecordEntry(entry, rt, trust);
  } catch (err) {
    if (err instanceof RecordError) throw failed(`${rt.type} ${err.message}`, err);
    throw err;
  }
}

export function formatEvidenceResult(r: EvidenceResult): string {
  const v = r.verification;
  const lines = [`verified: ownership evidence for ${r.model}`];
  for (const c of r.checks) lines.push(`  ok  ${c}`);
  if (!r.pinned.owner) lines.push('  note: owner key taken from the bundle; pass --owner-key with a key obtained independently');
  if (!r.pinned.log) lines.push('  note: log key taken from the bundle; pass --pubkey with a key obtained independently');
  lines.push(`suspect: ${v.suspect.kind === 'file' ? `${v.suspect.descriptor.name} sha256:${v.suspect.descriptor.digest.sha256}` : v.suspect.url}`);
  if (v.weight) lines.push(`weight mark: ${v.weight.matches}/${v.weight.bits} bits, BER ${v.weight.ber.toFixed(4)}, p = ${v.weight.pValue.toExponential(3)}`);
  if (r.fingerprint) {
    const f = r.fingerprint;
    lines.push(`fingerprint: ${f.matches}/${f.n}, chance rate ${f.chanceRate} (calibration entry ${f.calibrationIndex}), p = ${f.pValue.toExponential(3)} (recomputed ${f.recomputedPValue.toExponential(3)}); committed at entry ${f.commitmentIndex}, sealed by checkpoint ${f.sealedBy}${f.revealed ? '; set revealed' : '; set kept secret (not revealed in this bundle)'}${f.requeried ? `; re-queried: ${f.requeried.matches}/${f.n}` : ''}`);
  }
  if (v.trigger) lines.push(`trigger set: ${v.trigger.matches}/${v.trigger.n}, chance rate ${v.trigger.chanceRate} (${v.trigger.nullSource}), p = ${v.trigger.pValue.toExponential(3)}`);
  if (r.reExtraction) {
    lines.push(`re-extraction on the suspect file (${r.reExtraction.format}):`);
    for (const l of formatReExtraction(r.reExtraction)) lines.push(`  ${l}`);
  } else {
    const who = r.recordSigner.as === 'owner' ? "the owner's key" : 'a service key the owner lists';
    lines.push(`NOTE: these numbers are a signed record, not a re-check: verification entry ${r.verificationIndex} as signed by ${who} ${r.recordSigner.key} (actor ${r.recordSigner.actor}); pass --suspect FILE to recompute them from the suspect`);
  }
  for (const t of r.timestamps) lines.push(`timestamp: log of ${t.size} entries existed by ${t.genTime} (${t.signer})`);
  lines.push(`decision recorded: ${v.owned ? 'OWNED' : 'not owned'} at alpha = ${v.alpha}`);
  return lines.join('\n');
}
