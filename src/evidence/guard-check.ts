// `evidence verify` for a guard-mark claim (the predicate's `guard` section, written by
// guard-section.ts), offline and from the bundle alone:
//   - the verification.recorded entry (guard form) is proven and signed by the owner (or a
//     service key the owner lists);
//   - for each revealed client: the guard.committed entry is proven, signed by a guard key the
//     owner vouches for in the signed statement (or the owner), and holds the root and count the
//     verification names; a log-signed checkpoint covering it (consistent with the bundle's) is
//     older than the verification;
//   - every revealed mark rebuilds its leaf (salt, input digest, label given) and opens against
//     the committed root with its RFC 6962 audit path; the number of marks is the committed count
//     and their positions are 0..count-1, so none was removed, added or relabelled;
//   - after-the-fact rule: every proven entry naming the suspect comes after the commitments;
//   - the chance rate (1/(C-1), or the guard.calibrated rule from its proven, signed entry), the
//     exact binomial p-value (statistics.ts, not the code verify used) and the Bonferroni family
//     p-value and decision recompute to what the record says;
//   - with --suspect FILE: the file is the one examined (digest), and it is queried again with the
//     revealed marks (src/verify classifiers, ONNX or TF.js): agreement and p-value recomputed.
import { sha256 } from '@noble/hashes/sha2.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, canonicalJsonBytes, hashLeaf, isHallmarkError, toHex, verifyInclusion, type JsonValue } from '../../ledger/index.js';
import { guardCalibrated, guardCommitted, guardVerificationRecorded, type GuardVerificationRecord, type TrustedKeys } from '../records/index.js';
import { verifyBundleTimestamps, type VerifiedTimestamp } from './bundle-timestamps.js';
import { EvidenceError, failed, malformed } from './errors.js';
import type { VerifyEvidenceOptions } from './evidence-verify.js';
import { namesSuspect, signed } from './fingerprint-check.js';
import { guardSuspectSubject } from './guard-section.js';
import { openLogCheckpoint, verifyCheckpointConsistency, verifyProvenEntries, type VerifiedEntry } from './log-proofs.js';
import type { parseVerifierKey } from './owner-key.js';
import { binomialTail } from './statistics.js';
import { arr, decodeBase64, int, obj, str } from './strict-json.js';
import { verifyWitnessed, type VerifiedWitnessing } from './witnessed.js';

/** Relative tolerance between recorded p-values and this file's recomputation. */
export const GUARD_P_TOLERANCE = 1e-6;
const MAX_MARKS = 100_000;
const MAX_CLIENTS = 100;
const MAX_APPEARANCES = 1000;
const MAX_FILE_BYTES = 256 << 20;

export interface GuardClientEvidence {
  readonly client: string;
  readonly commitmentIndex: number;
  readonly sealedBy: number;
  readonly calibrationIndex?: number;
  readonly n: number;
  readonly matches: number;
  readonly classes: number;
  readonly chanceRate: number;
  readonly pValue: number;
  readonly recomputedPValue: number;
  /** The suspect file queried again with the revealed marks. */
  readonly requeried?: { readonly matches: number; readonly pValue: number; readonly classifier: string };
}

export interface GuardEvidenceResult {
  readonly kind: 'guard';
  readonly ownerKey: string;
  readonly logKey: string;
  readonly pinned: { owner: boolean; log: boolean };
  readonly checkpointSize: number;
  readonly verificationIndex: number;
  readonly verification: GuardVerificationRecord;
  readonly recordSigner: { readonly key: string; readonly as: 'owner' | 'service'; readonly actor: string };
  /** The revealed clients, proven and recomputed. */
  readonly clients: readonly GuardClientEvidence[];
  readonly recomputedFamilyPValue: number;
  readonly appearances: readonly number[];
  readonly timestamps: VerifiedTimestamp[];
  readonly witnessing?: VerifiedWitnessing;
  readonly checks: string[];
}

/** A predicate with a `guard` section is a guard-mark claim. */
export function isGuardPredicate(p: unknown): boolean {
  return typeof p === 'object' && p !== null && !Array.isArray(p) && Object.prototype.hasOwnProperty.call(p, 'guard');
}

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
export const guardClose = (a: number, b: number) => a === b || Math.abs(a - b) <= GUARD_P_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
const close = guardClose;

function fileSha(dir: string, name: string): string {
  const path = join(dir, name);
  if (!existsSync(path)) throw failed(`${name} is missing`);
  if (statSync(path).size > MAX_FILE_BYTES) throw malformed(`${name} is larger than ${MAX_FILE_BYTES} bytes`);
  return toHex(sha256(new Uint8Array(readFileSync(path))));
}

/** The chance rate, recomputed: 1/(C-1), or min(1/(C-1), max(max agreement, (1 - min clean accuracy)/(C-1))). */
export function guardNullRate(classes: number, cal?: { agreement: readonly number[]; cleanAccuracy: readonly number[] }): number {
  const bound = 1 / (classes - 1);
  if (!cal) return bound;
  let top = 0;
  for (const a of cal.agreement) if (a > top) top = a;
  let low = 1;
  for (const a of cal.cleanAccuracy) if (a < low) low = a;
  return Math.min(bound, Math.max(top, (1 - low) / (classes - 1)));
}

interface RevealedMark {
  readonly input: Float32Array;
  readonly dims: number[];
  readonly label: number;
}

/** One mark of the bundle: its leaf rebuilt and opened against the committed root. */
function openMark(v: unknown, k: number, o: { client: string; count: number; root: Uint8Array; classes: number; where: string }): RevealedMark {
  const where = `${o.where} mark ${k}`;
  const m = obj(v, where, ['seq', 'salt', 'dims', 'input', 'label', 'classes', 'proof']);
  if (int(m.seq, `${where} seq`) !== k) throw failed(`${where}: marks must be revealed in order 0..count-1 (found seq ${String(m.seq)})`);
  const salt = str(m.salt, `${where} salt`, 64);
  const dims = arr(m.dims, `${where} dims`, 8).map((d, i) => int(d, `${where} dims[${i}]`));
  const label = int(m.label, `${where} label`);
  const classes = int(m.classes, `${where} classes`);
  if (classes !== o.classes || label >= classes) throw failed(`${where}: label ${label} of ${classes} classes does not fit the verification's ${o.classes} classes`);
  const bytes = decodeBase64(m.input, `${where} input`);
  const size = dims.reduce((a, b) => a * b, 1);
  if (dims.some((d) => d < 1) || bytes.length !== size * 4) throw failed(`${where}: the input holds ${bytes.length} bytes, not ${size} float32 values`);
  const proof = arr(m.proof, `${where} proof`, 64).map((h, i) => {
    const s = str(h, `${where} proof[${i}]`, 64);
    if (!/^[0-9a-f]{64}$/.test(s)) throw malformed(`${where} proof[${i}] is not 64 hex digits`);
    return fromHex(s);
  });
  const leaf = canonicalJsonBytes({ v: 1, client: o.client, seq: k, salt, dims, inputSha256: toHex(sha256(bytes)), label, classes });
  try {
    verifyInclusion(k, o.count, hashLeaf(leaf), proof, o.root);
  } catch (err) {
    if (isHallmarkError(err)) throw failed(`${where} does not open against the committed root (its input, label or salt was changed): ${err.message}`, err);
    throw err;
  }
  const input = new Float32Array(size);
  new Uint8Array(input.buffer).set(bytes);
  return { input, dims, label };
}

type Opened = { owner: ReturnType<typeof parseVerifierKey>; stmt: Record<string, unknown>; checks: string[] };

export async function checkGuardStatement(dir: string, opened: Opened, options: VerifyEvidenceOptions): Promise<GuardEvidenceResult> {
  const { owner, stmt } = opened;
  const checks = [...opened.checks];
  const p = obj(stmt.predicate, 'predicate', ['format', 'owner', 'log', 'checkpoint', 'entries', 'verification', 'timestamps', 'files', 'guard'], ['serviceKeys', 'witnessed']);
  if (p.format !== 'hallmark/evidence-bundle/v1') throw new EvidenceError('EVIDENCE_UNSUPPORTED_VERSION', `evidence format "${String(p.format).slice(0, 80)}" is not supported`);
  if (obj(p.owner, 'predicate.owner', ['verifierKey', 'name']).verifierKey !== owner.verifierKey) throw failed('the statement names a different owner key than the one that signed it');
  const serviceKeys = p.serviceKeys === undefined ? [] : arr(p.serviceKeys, 'predicate.serviceKeys', 4).map((k, i) => str(k, `service key ${i + 1}`, 500));
  const files = obj(p.files, 'predicate.files', ['report.pdf', 'VERIFY.md']);
  for (const f of ['report.pdf', 'VERIFY.md'] as const) {
    if (fileSha(dir, f) !== obj(files[f], `predicate.files["${f}"]`, ['sha256']).sha256) throw failed(`${f} does not match the SHA-256 in the signed statement (the file was changed)`);
  }
  checks.push('report.pdf and VERIFY.md match their signed digests');

  const log = obj(p.log, 'predicate.log', ['origin', 'verifierKey']);
  const logKey = options.logKey ?? str(log.verifierKey, 'log key', 500);
  if (log.verifierKey !== logKey) throw failed('the statement names a different log key than the one given (--pubkey)');
  const cp = openLogCheckpoint(p.checkpoint, logKey, 'current checkpoint');
  if (cp.origin !== log.origin) throw failed('the checkpoint is for another log origin');
  const entries = verifyProvenEntries(p.entries, cp, 'entries');
  checks.push(`checkpoint of size ${cp.size} signed by the log; ${entries.length} entries: canonical bytes, inclusion proofs, chain links`);
  const entry = (i: number, what: string): VerifiedEntry => {
    const e = entries.find((x) => x.index === i);
    if (!e) throw failed(`entry ${i} (${what}) is not among the proven entries`);
    return e;
  };

  const vIndex = int(obj(p.verification, 'predicate.verification', ['index']).index, 'verification index');
  const vr = signed(entry(vIndex, 'the verification').entry, guardVerificationRecorded, { owner: owner.verifierKey, service: serviceKeys });
  const record = vr.record;
  if (record.ownerKey !== owner.verifierKey) throw failed(`verification entry ${vIndex} was made for another owner key`);
  checks.push(`guard verification entry ${vIndex} signed by ${vr.signer!.as === 'owner' ? 'the owner' : 'a service key the owner lists'}, actor ${vr.actor}`);
  if (canonicalJson(stmt.subject as JsonValue) !== canonicalJson([guardSuspectSubject(record)] as unknown as JsonValue)) throw failed('the statement subject does not match the verified suspect');

  const g = obj(p.guard, 'predicate.guard', ['serviceKeys', 'appearances', 'clients']);
  const guardKeys = arr(g.serviceKeys, 'predicate.guard.serviceKeys', 16).map((k, i) => str(k, `guard key ${i + 1}`, 500));
  const guardTrust: TrustedKeys = { owner: owner.verifierKey, service: guardKeys };
  const calTrust: TrustedKeys = { owner: owner.verifierKey, service: serviceKeys };
  const sections = arr(g.clients, 'predicate.guard.clients', MAX_CLIENTS);
  if (sections.length === 0) throw failed('the guard section reveals no client\'s set');
  const results: GuardClientEvidence[] = [];
  const revealed = new Map<string, { marks: RevealedMark[]; chance: number }>();
  for (const [ci, raw] of sections.entries()) {
    const where = `predicate.guard.clients[${ci}]`;
    const s = obj(raw, where, ['client', 'commitment', 'checkpoint', 'consistency', 'marks'], ['calibration']);
    const client = str(s.client, `${where}.client`, 40);
    if (revealed.has(client)) throw failed(`client ${client} is revealed twice`);
    const rc = record.guard.clients.find((c) => c.client === client);
    if (!rc) throw failed(`client ${client} was not tested by verification entry ${vIndex}: its set has no place in this bundle`);
    const cIndex = int(obj(s.commitment, `${where}.commitment`, ['index']).index, `${where} commitment index`);
    if (cIndex !== rc.commitment.index) throw failed(`the verification tested client ${client}'s set of entry ${rc.commitment.index}, the bundle proves entry ${cIndex}`);
    const c = signed(entry(cIndex, `client ${client}'s guard commitment`).entry, guardCommitted, guardTrust);
    if (c.record.client !== client || c.record.root !== rc.commitment.root || c.record.count !== rc.commitment.count) throw failed(`guard.committed entry ${cIndex} is not the set (client, root, count) the verification names for client ${client}`);
    checks.push(`guard commitment entry ${cIndex} (client ${client}, ${c.record.count} marks) proven and signed by ${c.signer!.as === 'owner' ? 'the owner' : `the guard key ${c.signer!.key.split('+').slice(0, 2).join('+')} the owner lists`}`);
    const seal = openLogCheckpoint(s.checkpoint, logKey, `${where} sealing checkpoint`);
    verifyCheckpointConsistency(s.consistency, seal, cp, `${where} consistency proof`);
    if (!(cIndex < seal.size)) throw failed(`the sealing checkpoint (size ${seal.size}) does not cover guard commitment entry ${cIndex}`);
    if (!(seal.size <= vIndex)) throw failed(`client ${client}'s set was not committed before the verification: sealing checkpoint size ${seal.size} > verification entry ${vIndex}`);
    checks.push(`client ${client}'s set sealed by checkpoint ${seal.size} (consistent with ${cp.size}), before verification entry ${vIndex}`);

    const list = arr(s.marks, `${where}.marks`, MAX_MARKS);
    if (list.length !== c.record.count) throw failed(`client ${client}: the bundle reveals ${list.length} marks, entry ${cIndex} committed ${c.record.count}`);
    const root = fromHex(c.record.root);
    const marks = list.map((m, k) => openMark(m, k, { client, count: c.record.count, root, classes: rc.classes, where: `client ${client}` }));
    checks.push(`client ${client}: ${marks.length} revealed marks (inputs and labels given) each open against the committed root`);

    let chance: number;
    let calibrationIndex: number | undefined;
    if (rc.nullSource === 'calibrated') {
      if (s.calibration === undefined) throw failed(`client ${client}'s null is calibrated but the bundle carries no guard.calibrated entry`);
      calibrationIndex = int(obj(s.calibration, `${where}.calibration`, ['index']).index, `${where} calibration index`);
      if (calibrationIndex !== rc.calibration) throw failed(`the verification used calibration entry ${rc.calibration}, the bundle proves entry ${calibrationIndex}`);
      const cal = signed(entry(calibrationIndex, 'a guard calibration').entry, guardCalibrated, calTrust).record;
      const cc = cal.clients.find((x) => x.client === client && x.commitment === cIndex && x.count === c.record.count);
      if (!cc) throw failed(`guard.calibrated entry ${calibrationIndex} does not calibrate client ${client}'s set of entry ${cIndex}`);
      chance = guardNullRate(rc.classes, { agreement: cc.agreement, cleanAccuracy: cal.cleanAccuracy });
    } else {
      if (s.calibration !== undefined) throw failed(`client ${client}'s null is the 1/(C-1) bound, yet the bundle names a calibration`);
      chance = guardNullRate(rc.classes);
    }
    if (!close(chance, rc.chanceRate)) throw failed(`client ${client}: recorded chance rate ${rc.chanceRate} is not ${chance} (${rc.nullSource === 'calibrated' ? `the rule over calibration entry ${calibrationIndex}` : '1/(C-1)'})`);
    const pv = binomialTail(rc.n, chance, rc.matches);
    if (!close(pv, rc.pValue)) throw failed(`client ${client}: recorded p-value ${rc.pValue} differs from P[Binomial(${rc.n}, ${chance}) >= ${rc.matches}] = ${pv}`);
    checks.push(`client ${client}: p-value recomputed from the counts: ${rc.matches}/${rc.n} against chance ${chance.toPrecision(4)} (${rc.nullSource}): p = ${pv.toExponential(3)}`);
    revealed.set(client, { marks, chance });
    results.push({ client, commitmentIndex: cIndex, sealedBy: seal.size, ...(calibrationIndex !== undefined ? { calibrationIndex } : {}), n: rc.n, matches: rc.matches, classes: rc.classes, chanceRate: rc.chanceRate, pValue: rc.pValue, recomputedPValue: pv });
  }

  // Bonferroni over every client the verification tested (the unrevealed ones by their signed p).
  let minP = 1;
  for (const rc of record.guard.clients) minP = Math.min(minP, results.find((r) => r.client === rc.client)?.recomputedPValue ?? rc.pValue);
  const family = Math.min(1, record.guard.tests * minP);
  if (record.guard.tests !== record.guard.clients.length || !close(family, record.guard.familyPValue)) throw failed(`recorded family p-value ${record.guard.familyPValue} is not min(1, ${record.guard.tests} x ${minP}) = ${family}`);
  if ((family < record.alpha) !== record.owned && family !== record.alpha) throw failed(`the recorded decision (${record.owned ? 'owned' : 'not owned'}) does not follow from family p ${family} at alpha ${record.alpha}`);
  const decidedBy = record.guard.clients.reduce((a, b) => (b.pValue < a.pValue ? b : a)).client;
  checks.push(`Bonferroni over ${record.guard.tests} client(s): family p = ${family.toExponential(3)}, ${record.owned ? 'below' : 'not below'} alpha ${record.alpha}${revealed.has(decidedBy) ? '' : `; NOTE: the smallest p is client ${decidedBy}'s, whose set this bundle does not reveal`}`);

  const latest = Math.max(...results.map((r) => r.commitmentIndex));
  const listed = arr(g.appearances, 'predicate.guard.appearances', MAX_APPEARANCES).map((v, i) => int(v, `appearance ${i + 1}`));
  for (const i of listed) if (!namesSuspect(entry(i, 'a suspect appearance').entry, record.suspect)) throw failed(`entry ${i} is listed as an appearance of the suspect but does not name it`);
  const appearances = entries.filter((e) => e.index !== vIndex && namesSuspect(e.entry, record.suspect)).map((e) => e.index);
  const early = appearances.filter((i) => i < latest);
  if (early.length > 0) throw failed(`after the fact: the suspect appears at entry ${early[0]}, before guard commitment entry ${latest}; a watermark set committed after a model was known cannot show that model copied the answers`);
  checks.push(`after-the-fact rule: ${appearances.length ? `the suspect's ${appearances.length} proven appearance(s) come after` : 'no proven entry names the suspect before'} guard commitment entry ${latest}`);

  const timestamps = await verifyBundleTimestamps(p.timestamps, logKey, cp, options.tsaCaCerts);
  if (timestamps.length > 0) checks.push(`${timestamps.length} RFC 3161 timestamp(s)`);
  let witnessing: VerifiedWitnessing | undefined;
  if (p.witnessed !== undefined) {
    witnessing = verifyWitnessed(p.witnessed, cp, logKey, options.policy);
    checks.push(`witnessed: checkpoint of size ${witnessing.size} cosigned (${witnessing.witnesses.map((w) => w.witness).join(', ')})`);
  } else if (options.policy !== undefined) throw failed('a policy was given (--policy) but the bundle carries no witnessed checkpoint');

  if (options.suspect !== undefined) await requery(options.suspect, record, revealed, results, checks);
  return {
    kind: 'guard', ownerKey: owner.verifierKey, logKey, pinned: { owner: options.ownerKey !== undefined, log: options.logKey !== undefined }, checkpointSize: cp.size,
    verificationIndex: vIndex, verification: record, recordSigner: { key: vr.signer!.key, as: vr.signer!.as, actor: vr.actor },
    clients: results, recomputedFamilyPValue: family, appearances, timestamps, ...(witnessing ? { witnessing } : {}), checks,
  };
}

/** --suspect FILE: digest against the record (file suspects), then the revealed marks asked again. */
async function requery(path: string, record: GuardVerificationRecord, revealed: Map<string, { marks: RevealedMark[]; chance: number }>, results: GuardClientEvidence[], checks: string[]): Promise<void> {
  if (record.suspect.kind === 'file') {
    const { digestModel } = await import('../formats/index.js');
    if ((await digestModel(path)).sha256 !== record.suspect.descriptor.digest.sha256) throw failed(`the suspect file ${path} is not the model the verification examined (its digest differs)`);
    checks.push('suspect file model digest matches the record');
  }
  const { openLocalClassifier } = await import('../verify/local-classifiers.js');
  const classifier = await openLocalClassifier(path);
  try {
    for (const [k, r] of results.entries()) {
      const { marks, chance } = revealed.get(r.client)!;
      const dims = marks[0]!.dims;
      if (dims.length !== 3 || marks.some((m) => m.dims.join() !== dims.join())) throw new EvidenceError('EVIDENCE_UNSUPPORTED', 're-querying needs every mark to be an [h, w, c] image of one size');
      const size = marks[0]!.input.length;
      const images = new Float32Array(marks.length * size);
      marks.forEach((m, i) => images.set(m.input, i * size));
      const answers = await classifier.classify(images, marks.length, [dims[0]!, dims[1]!, dims[2]!]);
      const matches = marks.reduce((n, m, i) => n + (answers[i] === m.label ? 1 : 0), 0);
      const pv = binomialTail(marks.length, chance, matches);
      results[k] = { ...r, requeried: { matches, pValue: pv, classifier: classifier.description } };
      if (record.suspect.kind === 'file' && matches !== r.matches) throw new EvidenceError('EVIDENCE_MISMATCH', `re-querying the suspect with client ${r.client}'s revealed marks gave ${matches}/${marks.length}; the record says ${r.matches}`);
      checks.push(`suspect re-queried with client ${r.client}'s revealed marks (${classifier.description}): ${matches}/${marks.length} agree with the labels given, p = ${pv.toExponential(3)}${record.suspect.kind === 'file' ? ', as recorded' : ' (the record examined an endpoint: not compared)'}`);
    }
  } finally {
    await classifier.close();
  }
}

export function formatGuardEvidenceResult(r: GuardEvidenceResult): string {
  const v = r.verification;
  const lines = ['verified: guard-mark evidence (a model copied through its API)'];
  for (const c of r.checks) lines.push(`  ok  ${c}`);
  if (!r.pinned.owner) lines.push('  note: owner key taken from the bundle; pass --owner-key with a key obtained independently');
  if (!r.pinned.log) lines.push('  note: log key taken from the bundle; pass --pubkey with a key obtained independently');
  lines.push(`suspect: ${v.suspect.kind === 'file' ? `${v.suspect.descriptor.name} sha256:${v.suspect.descriptor.digest.sha256}` : v.suspect.url}`);
  for (const c of r.clients) {
    lines.push(`guard client ${c.client}: ${c.matches}/${c.n} marks (agreement ${(c.matches / c.n).toFixed(3)}), chance rate ${c.chanceRate.toPrecision(4)}, p = ${c.pValue.toExponential(3)} (recomputed ${c.recomputedPValue.toExponential(3)}); committed at entry ${c.commitmentIndex}, sealed by checkpoint ${c.sealedBy}${c.requeried ? `; re-queried: ${c.requeried.matches}/${c.n}, p = ${c.requeried.pValue.toExponential(3)}` : ''}`);
  }
  if (!r.clients.some((c) => c.requeried)) lines.push(`NOTE: the suspect's answers are a signed record, not a re-check: pass --suspect FILE to query it again with the revealed marks`);
  for (const t of r.timestamps) lines.push(`timestamp: log of ${t.size} entries existed by ${t.genTime} (${t.signer})`);
  lines.push(`decision recorded: ${v.owned ? 'OWNED' : 'not owned'} at alpha = ${v.alpha} (family p = ${v.guard.familyPValue.toExponential(3)} over ${v.guard.tests} client(s))`);
  return lines.join('\n');
}
