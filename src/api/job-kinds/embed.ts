// Job kind `embed`: marks an uploaded model with the owner's watermarks (src/embed), writing the
// result into the job's artifact folder. Progress events go to the job record at most every
// 250 ms (and at every phase change); the ledger entries embed appends carry the submitter's key.
// The result holds the summary's numbers and download links, never a server path or a secret.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject, Ledger } from '../../../ledger/index.js';
import { embedWatermark, resolveEmbedTsa, type EmbedEvent, type EmbedOptions, type WatermarkScheme } from '../../embed/index.js';
import { identifyModel } from '../../embed/ledger-records.js';
import { parseSignerKey } from '../../evidence/index.js';
import { convertOnnxToTfjs } from '../../formats/convert-onnx-to-tfjs.js';
import { writeTfjsArtifacts } from '../../formats/index.js';
import { findModel, registerModel } from '../../lineage/index.js';
import { makePrivate, openHome } from '../../home/index.js';
import { SecretError } from '../../secrets/index.js';
import type { BackendChoice } from '../../train/backend.js';
import { materialize, storedModelName, storeArtifactFolder, withJobBlobs } from '../blob-files.js';
import type { JobContext } from '../jobs.js';
import type { BlobStore } from '../../blobs/index.js';
import { uploadsDir } from '../upload.js';

export interface EmbedParams {
  modelId: string;
  scheme?: WatermarkScheme;
  trainingFree?: boolean;
  dataset?: 'mnist';
  epochs?: number;
  backend?: BackendChoice;
  bits?: number;
  triggers?: number;
  lambda?: number;
  layer?: string;
  tensor?: string;
  trainLimit?: number;
  testLimit?: number;
  limits?: EmbedOptions['limits'];
  calibration?: EmbedOptions['calibration'];
}

const EXT: Record<string, string> = { onnx: '.onnx', safetensors: '.safetensors' };

function throttled(ctx: JobContext): (e: EmbedEvent) => void {
  let last = 0;
  let phase = '';
  return (e) => {
    const now = Date.now();
    if (e.phase === phase && now - last < 250) return;
    last = now;
    phase = e.phase;
    ctx.progress(JSON.parse(JSON.stringify(e)) as JsonObject);
  };
}

/**
 * Fine-tuning needs TF.js Layers; an uploaded ONNX model is converted (formats' importer) into
 * uploads/converted/<job>/ and registered as derived from the upload (operation
 * format.convert), so the marked model's lineage reaches the file the caller uploaded.
 */
async function convertForFineTuning(ledger: Ledger, ctx: JobContext, onnxPath: string, uploadedId: string): Promise<{ path: string; id: string }> {
  ctx.progress({ phase: 'convert', message: 'converting the ONNX upload to TF.js Layers for fine-tuning' });
  const dir = join(uploadsDir(ctx.homeDir), 'converted', ctx.jobId);
  const path = await writeTfjsArtifacts(dir, convertOnnxToTfjs(readFileSync(onnxPath)) as never);
  const m = await identifyModel(path);
  if (!findModel(ledger, m.id)) {
    const model = { ...m.descriptor, name: `${uploadedId.slice(-12)}.tfjs`, annotations: { 'hallmark.stored': join('uploads', 'converted', ctx.jobId, 'model.json') } };
    registerModel(ledger, { model, format: m.format, tensors: m.tensors, actor: ctx.actor, derivation: { operation: 'format.convert', baseModels: [uploadedId], actor: ctx.actor } });
  }
  return { path, id: m.id };
}

export async function run(raw: JsonObject, ctx: JobContext): Promise<JsonObject> {
  const p = raw as unknown as EmbedParams;
  if (!ctx.passphrase) throw new SecretError('SECRET_NO_PASSPHRASE', 'the server was started without HALLMARK_PASSPHRASE, so it cannot store watermark secrets');
  const home = openHome(ctx.homeDir, { passphrase: ctx.passphrase });
  try {
    // The uploaded model comes out of the shared blob store into this job's work folder; the
    // marked model goes back into it (artifacts/embed/<job>/...), so any replica serves it.
    return await withJobBlobs(ctx, (blobs, work) => embedIn(home, p, ctx, blobs, work));
  } finally {
    home.close();
  }
}

async function embedIn(home: ReturnType<typeof openHome>, p: EmbedParams, ctx: JobContext, blobs: BlobStore, work: string): Promise<JsonObject> {
  let model = await materialize(blobs, ctx.homeDir, storedModelName(home.ledger, p.modelId), work);
  let convertedFrom: string | undefined;
  if (!p.trainingFree && model.toLowerCase().endsWith('.onnx')) {
    model = (await convertForFineTuning(home.ledger, ctx, model, p.modelId)).path;
    convertedFrom = p.modelId;
  }
  const ext = Object.entries(EXT).find(([, e]) => model.toLowerCase().endsWith(e))?.[1];
  // ONNX and safetensors outputs are one file; a TF.js output is a folder, the artifact folder itself.
  const outDir = join(work, 'out');
  if (ext) mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const out = ext ? join(outDir, `marked${ext}`) : outDir;
  const options: EmbedOptions = {
    home: { dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey },
    ownerSeed: parseSignerKey(home.readOwnerSignerKey()).seed,
    model, out, passphrase: ctx.passphrase!, actor: ctx.actor, onProgress: throttled(ctx),
    ...tsaOf(ctx.homeDir),
    ...(p.scheme ? { scheme: p.scheme } : {}),
    ...(p.trainingFree ? { trainingFree: true } : {}),
    ...(p.dataset ? { dataset: p.dataset } : {}),
    ...(p.epochs !== undefined ? { epochs: p.epochs } : {}),
    ...(p.backend ? { backend: p.backend } : {}),
    ...(p.bits !== undefined ? { bits: p.bits } : {}),
    ...(p.triggers !== undefined ? { triggers: p.triggers } : {}),
    ...(p.lambda !== undefined ? { lambda: p.lambda } : {}),
    ...(p.layer ? { layer: p.layer } : {}),
    ...(p.tensor ? { tensor: p.tensor } : {}),
    ...(p.trainLimit !== undefined ? { trainLimit: p.trainLimit } : {}),
    ...(p.testLimit !== undefined ? { testLimit: p.testLimit } : {}),
    ...(p.limits ? { limits: p.limits } : {}),
    // One feed per calibration input when the caller gives a feed's shape (as the CLI does).
    ...(p.calibration ? { calibration: p.calibration.dims ? { batch: 1, ...p.calibration } : p.calibration } : {}),
  };
  // Commit, then seal: embedWatermark signs (and, with a TSA in config.json, stamps) a
  // checkpoint covering watermark.committed before it writes the marked model.
  const s = await embedWatermark(options);
  makePrivate(outDir, { recursive: true });
  const files = (await storeArtifactFolder(blobs, 'embed', ctx.jobId, outDir)).map(({ name }) => ({ name, download: `/v1/embed/${ctx.jobId}/files/${name}` }));
  const { input, output, secret: _secret, ...numbers } = s;
  return JSON.parse(JSON.stringify({
    ...numbers,
    // Uploads are registered under the file's SHA-256, embed names a model by its OpenSSF-style
    // digest (file names and digests): both ids are given so a client can follow either.
    input: { id: input.id, format: input.format, uploadedAs: p.modelId, ...(convertedFrom ? { convertedFrom } : {}) },
    output: { id: output.id, format: output.format, files },
    checkpointSize: s.seal.checkpointSize,
    ...(s.seal.timestamp ? { timestamp: s.seal.timestamp } : {}),
  })) as JsonObject;
}

function tsaOf(homeDir: string): Pick<EmbedOptions, 'tsa'> {
  const tsa = resolveEmbedTsa(homeDir);
  return tsa ? { tsa } : {};
}
