// `hallmark verify` as one function: load the committed marks (the one asked for, else every live
// commitment of the owner), look for each in the suspect (white-box in its weights, black-box
// through its answers), decide at alpha with every test run counted (Bonferroni), and append
// `verification.recorded` (src/records), signed, with every number that led there.
import { basename, resolve } from 'node:path';
import type { Ledger } from '../../ledger/index.js';
import { DEFAULT_ALPHA } from '../core/index.js';
import { appendRecord, verificationRecorded, VERIFICATION_SCHEMA, type RecordProblem, type RecordSigner, type TrustedKeys, type VerificationRecord } from '../records/index.js';
import { detectModelFormat, digestModel, MEDIA_TYPES, readModelTensors } from '../formats/index.js';
import { selectBackend, type BackendChoice } from '../train/backend.js';
import { verifyTriggerMark, type BlackBoxResult, type NullCalibration } from './black-box.js';
import { findCalibration } from './calibration.js';
import type { Classifier } from './classifier.js';
import { checkAlpha, decideOwnership, type OwnershipDecision, type TestOutcome } from './decision.js';
import { VerifyError } from './errors.js';
import { redactUrl, type RemoteOptions } from './http-client.js';
import { openLocalClassifier } from './local-classifiers.js';
import type { FingerprintTest, FingerprintTestResult } from './fingerprint-test.js';
import { liveCommitments, loadMark, type LoadedMark } from './mark-secrets.js';
import { openRemoteClassifier, type RemoteSuspect } from './remote-classifier.js';
import { verifyWeightMark, type WhiteBoxResult } from './white-box.js';

export type VerifyMethod = 'auto' | 'white-box' | 'black-box' | 'both';

export type SuspectInput = { readonly path: string } | (RemoteSuspect & { readonly path?: undefined });

export interface VerifyOptions {
  readonly home: { readonly dir: string; readonly ledger: Ledger; readonly ownerVerifierKey: string };
  readonly passphrase: string;
  readonly suspect: SuspectInput;
  /** watermark.committed entry index (default: every live commitment of the owner). */
  readonly commitment?: number;
  /** Signs verification.recorded: the owner's key or a service key the home lists. */
  readonly signer: RecordSigner;
  /** Keys entitled to sign records here (default: the home's owner key only). */
  readonly trust?: TrustedKeys;
  readonly method?: VerifyMethod;
  readonly alpha?: number;
  readonly remote?: RemoteOptions;
  /** TF.js backend for TF.js suspects (default auto). */
  readonly backend?: BackendChoice;
  readonly actor?: string;
  /** A committed fingerprint to test as well (src/fingerprint openFingerprintTest); with no
   *  live watermark commitment it is tested alone. */
  readonly fingerprint?: FingerprintTest;
}

export interface VerificationReport {
  readonly index: number;
  readonly record: VerificationRecord;
  /** The watermark that matched best (absent when only a fingerprint was tested). */
  readonly mark?: { readonly commitmentIndex: number; readonly model: string; readonly scheme: string };
  readonly weight?: WhiteBoxResult;
  readonly fingerprint?: FingerprintTestResult;
  readonly trigger?: BlackBoxResult;
  /** Present when a trigger test ran; says whether the null was calibrated. */
  readonly calibration?: { readonly present: boolean; readonly index?: number; readonly note: string };
  readonly decision: OwnershipDecision;
  readonly requests?: number;
  /** Every commitment tried, with its best log10 p-value; the matched one is `mark`. */
  readonly tried: { readonly index: number; readonly model: string; readonly log10PValue: number; readonly tests: number }[];
  /** Commitments skipped: orphans (no marked model after them). */
  readonly orphans: number[];
  /** Entries that are not valid owner-signed records (reported with their index, never fatal). */
  readonly problems: RecordProblem[];
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

interface MarkRun {
  readonly mark: LoadedMark;
  readonly weight?: WhiteBoxResult;
  readonly trigger?: BlackBoxResult;
  readonly calibration?: NullCalibration;
  readonly outcomes: TestOutcome[];
  readonly best: number;
}

/** The marks to test: the one asked for, else every live commitment (orphans skipped). */
async function marksToTest(o: VerifyOptions, trust: TrustedKeys): Promise<{ marks: LoadedMark[]; orphans: number[]; problems: RecordProblem[] }> {
  if (o.commitment !== undefined) return { marks: [await loadMark(o.home, o.passphrase, o.commitment, trust)], orphans: [], problems: [] };
  const found = liveCommitments(o.home.ledger, trust);
  if (found.live.length === 0 && o.fingerprint) return { marks: [], orphans: found.orphans, problems: found.problems };
  if (found.live.length === 0) {
    const why = [found.orphans.length ? `${found.orphans.length} orphan commitment(s) (entries ${found.orphans.join(', ')}) have no marked model after them` : '', found.problems.length ? `${found.problems.length} entry(ies) are not valid owner-signed commitments (${found.problems.map((p) => p.index).join(', ')})` : ''].filter(Boolean).join('; ');
    throw new VerifyError('VERIFY_NOT_FOUND', `the ledger has no live watermark.committed entry of this owner${why ? `: ${why}` : ''}; embed a mark first (hallmark embed), or pass --commitment`);
  }
  const marks: LoadedMark[] = [];
  for (const c of found.live) marks.push(await loadMark(o.home, o.passphrase, c.index, trust));
  return { marks, orphans: found.orphans, problems: found.problems };
}

export async function verifySuspect(o: VerifyOptions): Promise<VerificationReport> {
  const alpha = checkAlpha(o.alpha ?? DEFAULT_ALPHA);
  const trust = o.trust ?? { owner: o.home.ownerVerifierKey };
  const { marks, orphans, problems: markProblems } = await marksToTest(o, trust);
  const problems = [...markProblems, ...(o.fingerprint?.problems ?? [])];
  const local = o.suspect.path !== undefined ? await detectModelFormat(o.suspect.path) : undefined;
  const suspectDigest = local ? (await digestModel(o.suspect.path!)).sha256 : undefined;
  // A fingerprint committed after the suspect first appeared in the ledger proves nothing: refused here.
  o.fingerprint?.admit(local ? { sha256: suspectDigest! } : { url: redactUrl((o.suspect as RemoteSuspect).url) });
  if (o.fingerprint && local?.format === 'safetensors') throw new VerifyError('VERIFY_UNSUPPORTED', 'a safetensors file has no graph to query with the fingerprint');
  const runs: MarkRun[] = [];
  let fingerprint: FingerprintTestResult | undefined;
  let tensors: Awaited<ReturnType<typeof readModelTensors>>['tensors'] | undefined;
  let classifier: (Classifier & { budget?: { used: number } }) | undefined;
  let backend: string | undefined;
  let requests: number | undefined;
  let lastPlanError: unknown;
  try {
    for (const mark of marks) {
      let run: { white: boolean; black: boolean };
      try {
        run = plan(o.method ?? 'auto', mark, o.suspect, local?.format);
      } catch (err) {
        // With several commitments, one whose mark this suspect cannot be tested for is skipped.
        if (marks.length === 1) throw err;
        lastPlanError = err;
        continue;
      }
      let weight: WhiteBoxResult | undefined;
      if (run.white && local && mark.weight) {
        tensors ??= (await readModelTensors(local.path)).tensors;
        weight = verifyWeightMark(tensors, mark.weight);
      }
      let trigger: BlackBoxResult | undefined;
      let calibration: NullCalibration | undefined;
      if (run.black && mark.trigger) {
        calibration = findCalibration(o.home.ledger, mark.index, mark.trigger, trust, problems);
        if (!classifier) {
          if (local) {
            if (local.format === 'tfjs-layers') backend = (await selectBackend(o.backend ?? 'auto')).detail;
            classifier = await openLocalClassifier(local.path);
          } else {
            classifier = await openRemoteClassifier(o.suspect as RemoteSuspect, o.remote);
          }
        }
        trigger = await verifyTriggerMark(classifier, mark.trigger, calibration);
        backend ??= classifier.description.split(' on ')[0];
      }
      const outcomes: TestOutcome[] = [];
      if (weight) outcomes.push({ name: 'weight', log10PValue: weight.log10CorrectedPValue });
      if (trigger) outcomes.push({ name: 'trigger', log10PValue: trigger.log10PValue });
      runs.push({ mark, ...(weight ? { weight } : {}), ...(trigger ? { trigger } : {}), ...(calibration ? { calibration } : {}), outcomes, best: Math.min(...outcomes.map((t) => t.log10PValue)) });
    }
    if (o.fingerprint) {
      if (!classifier) {
        if (local) {
          if (local.format === 'tfjs-layers') backend = (await selectBackend(o.backend ?? 'auto')).detail;
          classifier = await openLocalClassifier(local.path);
        } else {
          classifier = await openRemoteClassifier(o.suspect as RemoteSuspect, o.remote);
        }
      }
      fingerprint = await o.fingerprint.run(classifier);
      backend ??= classifier.description.split(' on ')[0];
    }
  } finally {
    requests = classifier?.budget?.used;
    await classifier?.close();
  }
  if (runs.length === 0 && !fingerprint) throw lastPlanError ?? new VerifyError('VERIFY_UNSUPPORTED', 'no commitment has a test this suspect allows');
  const chosen = runs.length > 0 ? runs.reduce((a, b) => (b.best < a.best ? b : a)) : undefined;
  const fpOutcome: TestOutcome[] = fingerprint ? [{ name: 'fingerprint', log10PValue: fingerprint.log10PValue }] : [];
  const tests = runs.reduce((s, r) => s + r.outcomes.length, 0) + fpOutcome.length;
  const family = { tests, commitments: runs.length + (fingerprint ? 1 : 0) };
  const decision = decideOwnership([...(chosen?.outcomes ?? []), ...fpOutcome], alpha, family.commitments > 1 ? family : undefined);
  const { mark, weight, trigger, calibration } = chosen ?? {};
  const fpCommitted = o.fingerprint?.committed;

  const suspect: VerificationRecord['suspect'] = local
    ? { kind: 'file', descriptor: { name: basename(resolve(o.suspect.path!)).slice(0, 200) || 'model', digest: { sha256: suspectDigest! }, mediaType: MEDIA_TYPES[local.format] } }
    : { kind: 'endpoint', url: redactUrl((o.suspect as RemoteSuspect).url), protocol: (o.suspect as RemoteSuspect).protocol };
  const payload = {
    schema: VERIFICATION_SCHEMA,
    model: mark ? mark.markedModel : fpCommitted!.model,
    suspect,
    method: weight && (trigger || fingerprint) ? 'both' : weight ? 'white-box' : 'black-box',
    commitment: mark ? { index: mark.index, commitment: mark.committed.commitment } : { index: fpCommitted!.index, commitment: fpCommitted!.commitment },
    ownerKey: mark ? mark.committed.ownerKey : fpCommitted!.ownerKey,
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
    ...(family.commitments > 1 ? { family } : {}),
  };
  const stored = appendRecord(o.home.ledger, verificationRecorded, payload as never, o.signer, o.actor ?? 'hallmark-verify');
  const record = verificationRecorded.decode(payload);
  return {
    index: stored.index,
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
    tried: runs.map((r) => ({ index: r.mark.index, model: r.mark.markedModel, log10PValue: r.best, tests: r.outcomes.length })),
    orphans,
    problems,
  };
}
