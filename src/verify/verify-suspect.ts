// `hallmark verify` as one function: load the committed mark, look for it in the suspect
// (white-box in its weights, black-box through its answers), decide at alpha, and append
// `verification.recorded` (evidence/verification-record.ts) with every number that led there.
import { basename, resolve } from 'node:path';
import type { Ledger } from '../../ledger/index.js';
import { DEFAULT_ALPHA } from '../core/index.js';
import { readVerificationRecord, VERIFICATION_RECORDED, VERIFICATION_SCHEMA, type VerificationRecord } from '../evidence/verification-record.js';
import { detectModelFormat, digestModel, MEDIA_TYPES, readModelTensors } from '../formats/index.js';
import { selectBackend, type BackendChoice } from '../train/backend.js';
import { verifyTriggerMark, type BlackBoxResult, type NullCalibration } from './black-box.js';
import { findCalibration } from './calibration.js';
import type { Classifier } from './classifier.js';
import { checkAlpha, decideOwnership, type OwnershipDecision, type TestOutcome } from './decision.js';
import { VerifyError } from './errors.js';
import type { FingerprintTest, FingerprintTestResult } from './fingerprint-test.js';
import { redactUrl, type RemoteOptions } from './http-client.js';
import { openLocalClassifier } from './local-classifiers.js';
import { findCommitted, loadMark, type LoadedMark } from './mark-secrets.js';
import { openRemoteClassifier, type RemoteSuspect } from './remote-classifier.js';
import { verifyWeightMark, type WhiteBoxResult } from './white-box.js';

export type VerifyMethod = 'auto' | 'white-box' | 'black-box' | 'both';

export type SuspectInput = { readonly path: string } | (RemoteSuspect & { readonly path?: undefined });

export interface VerifyOptions {
  readonly home: { readonly dir: string; readonly ledger: Ledger; readonly ownerVerifierKey: string };
  readonly passphrase: string;
  readonly suspect: SuspectInput;
  /** watermark.committed entry index (default: the latest). */
  readonly commitment?: number;
  readonly method?: VerifyMethod;
  readonly alpha?: number;
  readonly remote?: RemoteOptions;
  /** TF.js backend for TF.js suspects (default auto). */
  readonly backend?: BackendChoice;
  readonly actor?: string;
  /** A committed fingerprint to test as well (src/fingerprint openFingerprintTest); with no
   *  watermark.committed in the ledger it is the only test. */
  readonly fingerprint?: FingerprintTest;
}

export interface VerificationReport {
  readonly index: number;
  readonly record: VerificationRecord;
  /** The watermark tested (absent when only a fingerprint was). */
  readonly mark?: { readonly commitmentIndex: number; readonly model: string; readonly scheme: string };
  readonly weight?: WhiteBoxResult;
  readonly trigger?: BlackBoxResult;
  readonly fingerprint?: FingerprintTestResult;
  /** Present when a trigger test ran; says whether the null was calibrated. */
  readonly calibration?: { readonly present: boolean; readonly index?: number; readonly note: string };
  readonly decision: OwnershipDecision;
  readonly requests?: number;
}

/** Which tests run: what the mark has and what the suspect allows. */
function plan(method: VerifyMethod, mark: LoadedMark, suspect: SuspectInput, format?: string): { white: boolean; black: boolean } {
  const remote = suspect.path === undefined;
  const canWhite = !remote && !!mark.weight;
  const canBlack = !!mark.trigger && format !== 'safetensors';
  if (method === 'auto') {
    if (!canWhite && !canBlack) throw new VerifyError('VERIFY_UNSUPPORTED', 'nothing to check: the mark has no test this suspect allows (a remote endpoint needs a trigger mark; safetensors needs a weight mark)');
    return { white: canWhite, black: canBlack };
  }
  const white = method === 'white-box' || method === 'both';
  const black = method === 'black-box' || method === 'both';
  if (white && !canWhite) throw new VerifyError('VERIFY_UNSUPPORTED', remote ? 'white-box verification needs the suspect\'s weights, not an endpoint' : 'this mark has no weight component');
  if (black && !canBlack) throw new VerifyError('VERIFY_UNSUPPORTED', format === 'safetensors' ? 'a safetensors file has no graph to query; use --method white-box' : 'this mark has no trigger set');
  return { white, black };
}

function hasWatermark(ledger: Ledger): boolean {
  try {
    findCommitted(ledger);
    return true;
  } catch (err) {
    if (err instanceof VerifyError && err.code === 'VERIFY_NOT_FOUND') return false;
    throw err;
  }
}

export async function verifySuspect(o: VerifyOptions): Promise<VerificationReport> {
  const alpha = checkAlpha(o.alpha ?? DEFAULT_ALPHA);
  const mark = o.fingerprint && o.commitment === undefined && !hasWatermark(o.home.ledger) ? undefined : await loadMark(o.home, o.passphrase, o.commitment);
  const local = o.suspect.path !== undefined ? await detectModelFormat(o.suspect.path) : undefined;
  const run = mark ? plan(o.method ?? 'auto', mark, o.suspect, local?.format) : { white: false, black: false };
  const suspectDigest = local ? (await digestModel(o.suspect.path!)).sha256 : undefined;
  o.fingerprint?.admit(local ? { sha256: suspectDigest! } : { url: redactUrl((o.suspect as RemoteSuspect).url) });
  if (o.fingerprint && local?.format === 'safetensors') throw new VerifyError('VERIFY_UNSUPPORTED', 'a safetensors file has no graph to query with the fingerprint');

  let weight: WhiteBoxResult | undefined;
  if (run.white && local && mark?.weight) weight = verifyWeightMark((await readModelTensors(local.path)).tensors, mark.weight);

  let trigger: BlackBoxResult | undefined;
  let calibration: NullCalibration | undefined;
  let requests: number | undefined;
  let backend: string | undefined;
  let fingerprint: FingerprintTestResult | undefined;
  if ((run.black && mark?.trigger) || o.fingerprint) {
    if (mark?.trigger && run.black) calibration = findCalibration(o.home.ledger, mark.index, mark.trigger);
    let classifier: Classifier & { budget?: { used: number } };
    if (local) {
      if (local.format === 'tfjs-layers') backend = (await selectBackend(o.backend ?? 'auto')).detail;
      classifier = await openLocalClassifier(local.path);
    } else {
      classifier = await openRemoteClassifier(o.suspect as RemoteSuspect, o.remote);
    }
    try {
      if (run.black && mark?.trigger) trigger = await verifyTriggerMark(classifier, mark.trigger, calibration);
      if (o.fingerprint) fingerprint = await o.fingerprint.run(classifier);
    } finally {
      requests = classifier.budget?.used;
      await classifier.close();
    }
    backend ??= classifier.description.split(' on ')[0];
  }

  const outcomes: TestOutcome[] = [];
  if (weight) outcomes.push({ name: 'weight', log10PValue: weight.log10CorrectedPValue });
  if (trigger) outcomes.push({ name: 'trigger', log10PValue: trigger.log10PValue });
  if (fingerprint) outcomes.push({ name: 'fingerprint', log10PValue: fingerprint.log10PValue });
  const decision = decideOwnership(outcomes, alpha);

  const suspect: VerificationRecord['suspect'] = local
    ? { kind: 'file', descriptor: { name: basename(resolve(o.suspect.path!)).slice(0, 200) || 'model', digest: { sha256: suspectDigest! }, mediaType: MEDIA_TYPES[local.format] } }
    : { kind: 'endpoint', url: redactUrl((o.suspect as RemoteSuspect).url), protocol: (o.suspect as RemoteSuspect).protocol };
  const payload = {
    schema: VERIFICATION_SCHEMA,
    model: mark ? mark.markedModel : o.fingerprint!.committed.model,
    suspect,
    method: weight && (trigger || fingerprint) ? 'both' : weight ? 'white-box' : 'black-box',
    commitment: mark ? { index: mark.index, commitment: mark.committed.commitment } : { index: o.fingerprint!.committed.index, commitment: o.fingerprint!.committed.commitment },
    ownerKey: mark ? mark.committed.ownerKey : o.fingerprint!.committed.ownerKey,
    ...(weight ? { weight: { bits: weight.bits, matches: weight.best.matches, ber: weight.best.ber, pValue: weight.best.pValue, tensor: weight.best.tensor.slice(0, 500), candidates: weight.candidates, correctedPValue: weight.correctedPValue } } : {}),
    ...(trigger
      ? {
          trigger: {
            n: trigger.n, matches: trigger.matches, classes: trigger.classes, chanceRate: trigger.chanceRate, nullSource: trigger.nullSource,
            ...(trigger.nullDistribution ? { nullDistribution: [...trigger.nullDistribution] } : {}),
            ...(trigger.calibrationIndex === undefined ? {} : { calibration: trigger.calibrationIndex }),
            pValue: trigger.pValue,
          },
        }
      : {}),
    ...(fingerprint ? { fingerprint: { commitment: fingerprint.commitment, n: fingerprint.n, matches: fingerprint.matches, classes: fingerprint.classes, chanceRate: fingerprint.chanceRate, nullDistribution: [...fingerprint.nullDistribution], calibration: fingerprint.calibration, pValue: fingerprint.pValue } } : {}),
    alpha,
    owned: decision.owned,
    ...(backend ? { backend: backend.slice(0, 100) } : {}),
  };
  const record = readVerificationRecord(payload); // our own output passes the reader evidence uses
  const index = o.home.ledger.append({ type: VERIFICATION_RECORDED, actor: o.actor ?? 'hallmark-verify', payload: payload as never }).index;
  return {
    index,
    record,
    ...(mark ? { mark: { commitmentIndex: mark.index, model: mark.markedModel, scheme: mark.committed.scheme } } : {}),
    ...(weight ? { weight } : {}),
    ...(fingerprint ? { fingerprint } : {}),
    ...(trigger ? { trigger } : {}),
    ...(trigger
      ? {
          calibration: calibration
            ? { present: true, index: calibration.index!, note: `calibrated: ${calibration.rates.length} unmarked models (entry ${calibration.index}), highest agreement ${Math.max(...calibration.rates).toFixed(3)}` }
            : { present: false, note: 'no calibration.recorded for this mark: chance is 1/C (run hallmark calibrate to measure unmarked models)' },
        }
      : {}),
    decision,
    ...(requests === undefined ? {} : { requests }),
  };
}
