// Job kind `fingerprint`: `hallmark fingerprint` for a model uploaded through the API (a TF.js
// Layers model: generation needs gradients through it). Progress (stage surrogate / reference /
// generate, done, total) goes to the job record at most every 250 ms and at every stage change;
// fingerprint.committed is signed by the owner's key and carries the submitter as its actor. The
// result holds the summary's numbers, never the set or a server path.
import type { JsonObject } from '../../../ledger/index.js';
import { createFingerprint } from '../../fingerprint/index.js';
import { openHome, ownerRecordSigner } from '../../home/index.js';
import { SecretError } from '../../secrets/index.js';
import type { BackendChoice } from '../../train/backend.js';
import type { JobContext } from '../jobs.js';
import { materialize, storedModelName, withJobBlobs } from '../blob-files.js';

export interface FingerprintParams {
  modelId: string;
  surrogates?: number;
  references?: number;
  n?: number;
  epsilon?: number;
  steps?: number;
  candidates?: number;
  trainSamples?: number;
  epochs?: number;
  seed?: number;
  backend?: BackendChoice;
}

export async function run(raw: JsonObject, ctx: JobContext): Promise<JsonObject> {
  const p = raw as unknown as FingerprintParams;
  if (!ctx.passphrase) throw new SecretError('SECRET_NO_PASSPHRASE', 'the server was started without HALLMARK_PASSPHRASE, so it cannot store fingerprint secrets');
  const home = openHome(ctx.homeDir, { passphrase: ctx.passphrase });
  try {
    // The uploaded model, copied from the shared blob store into this job's private work folder.
    return await withJobBlobs(ctx, async (blobs, work) => fingerprintIn(home, p, ctx, await materialize(blobs, ctx.homeDir, storedModelName(home.ledger, p.modelId), work)));
  } finally {
    home.close();
  }
}

async function fingerprintIn(home: ReturnType<typeof openHome>, p: FingerprintParams, ctx: JobContext, model: string): Promise<JsonObject> {
  {
    let last = 0;
    let stage = '';
    const { modelId: _m, ...options } = p;
    const s = await createFingerprint({
      ...options, home: { dir: ctx.homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, passphrase: ctx.passphrase!, // checked in run()
      signer: ownerRecordSigner(home), model, dataset: 'mnist', actor: ctx.actor,
      onProgress: (e) => {
        const now = Date.now();
        if (e.stage === stage && now - last < 250 && e.done !== e.total) return;
        last = now;
        stage = e.stage;
        ctx.progress(JSON.parse(JSON.stringify(e)) as JsonObject);
      },
    });
    return {
      index: s.index, commitment: s.commitment, model: s.model, parameters: s.parameters as unknown as JsonObject, recipes: s.recipes as unknown as JsonObject,
      checkpointSize: s.checkpointSize, tried: s.tried, qualified: s.qualified,
      surrogateAgreement: [...s.surrogateAgreement], referenceAgreement: [...s.referenceAgreement], cleanAccuracy: s.cleanAccuracy as unknown as JsonObject,
      seededInitialisers: [...s.seededInitialisers], backend: s.backend, seconds: s.seconds as unknown as JsonObject,
    };
  }
}
