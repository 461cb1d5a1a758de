// `evidence verify --suspect`: re-runs the watermark extraction on the suspect file with the secret
// the bundle reveals, using the verification code itself (src/verify: white-box candidate search,
// trigger queries through onnxruntime-node / TF.js), and compares every number with the record.
// Extraction is deterministic, so counts must be equal; p-values are recomputed from them and must
// agree to a relative 1e-9 (room for a different libm, not for a different count).
//
// What the record alone fixes and is re-used, not re-measured: alpha, and for a calibrated trigger
// null the recorded agreement rates of the unmarked models (re-training them is not a check a third
// party can run; the recomputed chance rate must still follow from them by the documented rule).
import { isHallmarkError, toHex } from '../../ledger/index.js';
import { verifyWatermarkRoot, type CommitmentOpening } from '../core/index.js';
import { detectModelFormat, digestModel, readModelTensors } from '../formats/index.js';
import type { NullCalibration } from '../verify/black-box.js';
import { decideOwnership, type TestOutcome } from '../verify/decision.js';
import { markKeysFromOpening, type MarkKeys } from '../verify/mark-secrets.js';
import { EvidenceError, failed } from './errors.js';
import { fmt, P_VALUE_TOLERANCE, type ComparedNumber, type ReExtraction } from './re-extract-format.js';
import type { VerificationRecord } from '../records/index.js';

export { formatReExtraction, P_VALUE_TOLERANCE, type ComparedNumber, type ReExtraction } from './re-extract-format.js';

export interface ReExtractInput {
  readonly suspect: string;
  readonly record: VerificationRecord;
  /** The revealed opening, already checked against the commitment (secret-material.ts). */
  readonly opening: CommitmentOpening;
  readonly ownerPublicKey: Uint8Array;
}

const relClose = (a: number, b: number) => a === b || Math.abs(a - b) <= P_VALUE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));

function exact(mark: ComparedNumber['mark'], quantity: string, recorded: number | string | boolean, recomputed: number | string | boolean): ComparedNumber {
  return { mark, quantity, recorded, recomputed, rule: 'exact', agrees: recorded === recomputed };
}
function relative(mark: ComparedNumber['mark'], quantity: string, recorded: number, recomputed: number): ComparedNumber {
  return { mark, quantity, recorded, recomputed, rule: 'relative', agrees: relClose(recorded, recomputed) };
}

/** Keys from the revealed root, after checking the root is the owner's signature. */
function keysFrom(opening: CommitmentOpening, ownerPublicKey: Uint8Array): MarkKeys {
  try {
    verifyWatermarkRoot(opening.root);
  } catch (err) {
    throw failed(`the revealed watermark root: ${(err as Error).message}`, err);
  }
  if (toHex(opening.root.ownerPublicKey) !== toHex(ownerPublicKey)) throw failed('the revealed watermark root belongs to another owner key');
  try {
    return markKeysFromOpening(opening);
  } catch (err) {
    throw failed(`the revealed opening cannot be used to extract: ${(err as Error).message}`, err);
  }
}

async function suspectDigest(path: string, record: VerificationRecord): Promise<{ format: string; digest: string; path: string }> {
  if (record.suspect.kind !== 'file') throw new EvidenceError('EVIDENCE_INVALID', 'the verification examined an endpoint, not a file; --suspect does not apply');
  const want = record.suspect.descriptor.digest.sha256;
  // The digest first: a file that is not the recorded one is refused before any model parser runs.
  let digest: string;
  try {
    digest = (await digestModel(path)).sha256;
  } catch (err) {
    if (!isHallmarkError(err)) throw err;
    if (err.code === 'FORMAT_NOT_FOUND') throw new EvidenceError('EVIDENCE_INVALID', `the suspect ${path} was not found`, { cause: err });
    throw failed(`the suspect file's SHA-256 model digest cannot be computed, so it is not the recorded ${want}: ${err.message}`, err);
  }
  if (digest !== want) {
    throw failed(`the suspect file's SHA-256 model digest ${digest} is not the recorded ${want} (the digest covers the file names too; the record names "${record.suspect.descriptor.name}")`);
  }
  let d;
  try {
    d = await detectModelFormat(path);
  } catch (err) {
    throw new EvidenceError('EVIDENCE_INVALID', `the suspect ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { format: d.format, digest, path: d.path };
}

/**
 * Checks the suspect's digest, re-runs every test the record holds, and compares. Throws
 * EVIDENCE_VERIFY_FAILED for a wrong file or root and EVIDENCE_MISMATCH naming each number that
 * differs; returns the comparisons when all agree.
 */
export async function reExtractSuspect(input: ReExtractInput): Promise<ReExtraction> {
  const { record } = input;
  const suspect = await suspectDigest(input.suspect, record);
  // Only a weight or trigger result needs the watermark keys (a fingerprint-only record is re-checked by fingerprint-check.ts).
  const keys = record.weight || record.trigger ? keysFrom(input.opening, input.ownerPublicKey) : {};
  const compared: ComparedNumber[] = [];
  const skipped: string[] = [];
  const outcomes: TestOutcome[] = [];
  let classifierName: string | undefined;

  if (record.weight) {
    const rw = record.weight;
    if (!keys.weight) throw failed('the record has weight-mark results but the revealed opening has no weight mark');
    if (keys.weight.bits.length !== rw.bits) throw new EvidenceError('EVIDENCE_MISMATCH', `re-extraction disagrees with the record: weight bits recorded ${rw.bits}, the revealed opening has ${keys.weight.bits.length}`);
    const { verifyWeightMark } = await import('../verify/white-box.js');
    const r = verifyWeightMark((await readModelTensors(suspect.path)).tensors, keys.weight);
    compared.push(exact('weight', 'bits', rw.bits, r.bits), exact('weight', 'matches', rw.matches, r.best.matches));
    if (rw.candidates !== undefined) compared.push(exact('weight', 'candidates', rw.candidates, r.candidates));
    if (rw.tensor !== undefined) compared.push(exact('weight', 'tensor', rw.tensor, r.best.tensor.slice(0, 500)));
    compared.push(relative('weight', 'ber', rw.ber, r.best.ber), relative('weight', 'pValue', rw.pValue, r.best.pValue));
    if (rw.correctedPValue !== undefined) compared.push(relative('weight', 'correctedPValue', rw.correctedPValue, r.correctedPValue));
    outcomes.push({ name: 'weight', log10PValue: r.log10CorrectedPValue });
  }

  if (record.trigger) {
    const rt = record.trigger;
    if (!keys.trigger) throw failed('the record has trigger-set results but the revealed opening has no trigger mark');
    if (suspect.format === 'safetensors') {
      skipped.push('trigger set: a safetensors file holds weights but no graph to query');
    } else {
      const calibration: NullCalibration | undefined = rt.nullSource === 'calibrated'
        ? { rates: rt.nullDistribution ?? [], ...(rt.calibration === undefined ? {} : { index: rt.calibration }) }
        : undefined;
      const { verifyTriggerMark } = await import('../verify/black-box.js');
      const { openLocalClassifier } = await import('../verify/local-classifiers.js');
      if (suspect.format === 'tfjs-layers') await (await import('../train/backend.js')).selectBackend('auto');
      const classifier = await openLocalClassifier(suspect.path);
      let r;
      try {
        r = await verifyTriggerMark(classifier, keys.trigger, calibration);
      } finally {
        await classifier.close();
      }
      classifierName = classifier.description.split(' on ')[0];
      compared.push(
        exact('trigger', 'n', rt.n, r.n), exact('trigger', 'classes', rt.classes, r.classes), exact('trigger', 'matches', rt.matches, r.matches),
        exact('trigger', 'nullSource', rt.nullSource, r.nullSource), relative('trigger', 'chanceRate', rt.chanceRate, r.chanceRate), relative('trigger', 'pValue', rt.pValue, r.pValue),
      );
      outcomes.push({ name: 'trigger', log10PValue: r.log10PValue });
    }
  }

  // A fingerprint test is checked from its counts (fingerprint-check.ts, and re-queried there when the
  // set is revealed); its p-value joins the family as recorded.
  if (record.fingerprint) outcomes.push({ name: 'fingerprint', log10PValue: Math.log10(record.fingerprint.pValue) });
  // The decision is re-made only when every recorded test was re-run.
  if (skipped.length === 0 && outcomes.length > 0) compared.push(exact('decision', 'owned', record.owned, decideOwnership(outcomes, record.alpha, record.family).owned));

  const wrong = compared.filter((c) => !c.agrees);
  if (wrong.length > 0) {
    throw new EvidenceError('EVIDENCE_MISMATCH', `re-extraction disagrees with the record: ${wrong.map((c) => `${c.mark} ${c.quantity} recorded ${fmt(c.recorded)}, recomputed ${fmt(c.recomputed)}`).join('; ')}`);
  }
  return { format: suspect.format, digest: suspect.digest, compared, skipped, ...(classifierName ? { classifier: classifierName } : {}) };
}
