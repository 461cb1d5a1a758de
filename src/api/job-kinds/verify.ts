// Job kinds `verify` and `calibrate`. verify looks for the committed mark in an uploaded suspect
// file (white-box and/or black-box) or through an inference endpoint (black-box), and appends
// verification.recorded under the submitter's key; its result is that record and the decision.
// calibrate trains a few unmarked models to measure the trigger null and appends
// calibration.recorded. Both decrypt the mark's opening with the server's passphrase.
import type { JsonObject } from '../../../ledger/index.js';
import { homeTrust, openHome, ownerRecordSigner } from '../../home/index.js';
import { SecretError } from '../../secrets/index.js';
import type { BackendChoice } from '../../train/backend.js';
import { runCalibration } from '../../verify/calibration.js';
import { latestLiveCommitment, loadMark } from '../../verify/mark-secrets.js';
import { verifySuspect, type SuspectInput, type VerifyMethod } from '../../verify/verify-suspect.js';
import { ApiError } from '../errors.js';
import type { JobContext } from '../jobs.js';
import { materialize, uploadName, withJobBlobs } from '../blob-files.js';


export type SuspectParam =
  | { upload: string; name: string }
  | { url: string; protocol: 'oip-v2' | 'tfserving'; model?: string; inputName?: string; layout?: 'NHWC' | 'NCHW' };

export interface VerifyParams {
  suspect: SuspectParam;
  commitment?: number;
  /** true: the latest fingerprint.committed; a number: that entry. */
  fingerprint?: true | number;
  method?: VerifyMethod;
  alpha?: number;
  timeoutMs?: number;
  maxRequests?: number;
}

export function passphraseOf(ctx: JobContext): string {
  if (!ctx.passphrase) throw new SecretError('SECRET_NO_PASSPHRASE', 'the server was started without HALLMARK_PASSPHRASE, so it cannot open watermark secrets');
  return ctx.passphrase;
}

export async function run(raw: JsonObject, ctx: JobContext): Promise<JsonObject> {
  passphraseOf(ctx);
  // An uploaded suspect is copied out of the shared blob store into this job's work folder.
  return withJobBlobs(ctx, async (blobs, work) => {
    const p = raw as unknown as VerifyParams;
    const path = 'upload' in p.suspect ? await materialize(blobs, ctx.homeDir, uploadName('suspects', p.suspect.upload, p.suspect.name), work) : undefined;
    return verifyWith(p, ctx, path);
  });
}

async function verifyWith(p: VerifyParams, ctx: JobContext, suspectFile: string | undefined): Promise<JsonObject> {
  const passphrase = passphraseOf(ctx);
  const suspect: SuspectInput = 'upload' in p.suspect
    ? { path: suspectFile! }
    : { url: p.suspect.url, protocol: p.suspect.protocol, ...(p.suspect.model ? { modelName: p.suspect.model } : {}), ...(p.suspect.inputName ? { inputName: p.suspect.inputName } : {}), ...(p.suspect.layout ? { layout: p.suspect.layout } : {}) };
  const home = openHome(ctx.homeDir, { passphrase: ctx.passphrase });
  try {
    ctx.progress({ phase: 'verifying', suspect: 'upload' in p.suspect ? 'file' : 'endpoint' });
    const fingerprint = p.fingerprint === undefined ? undefined
      : await (await import('../../fingerprint/index.js')).openFingerprintTest({ dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, passphrase, p.fingerprint === true ? undefined : p.fingerprint);
    const r = await verifySuspect({
      ...(fingerprint ? { fingerprint } : {}),
      home: { dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, passphrase, suspect, actor: ctx.actor, signer: ownerRecordSigner(home), trust: homeTrust(home),
      ...(p.commitment !== undefined ? { commitment: p.commitment } : {}),
      ...(p.method ? { method: p.method } : {}),
      ...(p.alpha !== undefined ? { alpha: p.alpha } : {}),
      remote: { ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}), ...(p.maxRequests !== undefined ? { maxRequests: p.maxRequests } : {}) },
    });
    return JSON.parse(JSON.stringify({ index: r.index, record: r.record, decision: r.decision, mark: r.mark, ...(r.fingerprint ? { fingerprint: r.fingerprint } : {}), tried: r.tried, orphans: r.orphans, problems: r.problems, ...(r.calibration ? { calibration: r.calibration } : {}), ...(r.requests !== undefined ? { requests: r.requests } : {}) })) as JsonObject;
  } finally {
    home.close();
  }
}

export interface CalibrateParams {
  commitment?: number;
  models?: number;
  epochs?: number;
  trainSamples?: number;
  backend?: BackendChoice;
}

export async function calibrate(raw: JsonObject, ctx: JobContext): Promise<JsonObject> {
  const p = raw as unknown as CalibrateParams;
  const passphrase = passphraseOf(ctx);
  const home = openHome(ctx.homeDir, { passphrase: ctx.passphrase });
  try {
    const trust = homeTrust(home);
    const mark = await loadMark({ dir: home.paths.dir, ledger: home.ledger }, passphrase, p.commitment ?? latestLiveCommitment(home.ledger, trust), trust);
    if (!mark.trigger && !mark.weight) throw new ApiError('API_INVALID_REQUEST', 'this mark has nothing to calibrate');
    const r = await runCalibration(home.ledger, {
      mark: { ...(mark.weight ? { weight: mark.weight } : {}), ...(mark.trigger ? { trigger: mark.trigger } : {}) },
      commitment: { index: mark.index, commitment: mark.committed.commitment },
      actor: ctx.actor, signer: ownerRecordSigner(home),
      onModel: (e) => ctx.progress({ phase: 'calibrating', ...e }),
      ...(p.models !== undefined ? { models: p.models } : {}),
      ...(p.epochs !== undefined ? { epochs: p.epochs } : {}),
      ...(p.trainSamples !== undefined ? { trainSamples: p.trainSamples } : {}),
      ...(p.backend ? { backend: p.backend } : {}),
    });
    return { index: r.index, commitment: mark.index, calibration: r.payload };
  } finally {
    home.close();
  }
}
