// The weight mark without training, for models we cannot fine-tune (ONNX, safetensors, or TF.js
// without data): core's minimum-norm change to one tensor (embed-weight.ts) so that every bit
// reads with a margin, written back with the formats writer (the rest of the file is kept byte
// for byte), then read back from the written file to measure the bit error rate a verifier sees.
import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../../ledger/index.js';
import {
  compareBits, deriveWatermarkKeys, embedWeightMarkTrainingFree, extractBits, generateProjection, kernelGeometry, meanOverOutputChannels, suggestMargin,
  type KernelLayout,
} from '../core/index.js';
import { loadLayersModel, readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors, type ModelFormat, type NamedTensor } from '../formats/index.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import type { LabelledImages } from '../train/fit.js';
import { checkPassphrase, commitWithSecret } from './commit-secret.js';
import { limitImages, loadDatasetSource, type DatasetSource } from './dataset-source.js';
import { checkOutputFree, identifyModelOrThrow } from './embed-finetune.js';
import { EmbedError } from './errors.js';
import { ensureDatasetRegistered, ensureModelRegistered, identifyModel, registerOutput } from './ledger-records.js';
import { inspectOnnx, onnxAccuracy, type OnnxModelInfo } from './onnx-model.js';
import type { EmbedEvent, EmbedOptions, EmbedSummary } from './types.js';

/** Margin strength (core suggestMargin): weight noise of this fraction of the kernel's rms moves a margin by one sd. */
export const DEFAULT_MARGIN_STRENGTH = 0.1;
const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

interface Candidate {
  readonly tensor: NamedTensor;
  readonly layout: KernelLayout;
  readonly features: number;
}

/** Layout of a weight: from the ONNX graph; TF.js kernels are HWIO / IO; safetensors follow PyTorch (OIHW / OI). */
function layoutOf(t: NamedTensor, format: ModelFormat, onnx?: OnnxModelInfo): KernelLayout | undefined {
  if (!FLOAT_DTYPES.includes(t.dtype)) return undefined;
  if (format === 'onnx') return onnx?.layouts.get(t.name);
  if (format === 'tfjs-layers') return t.shape.length === 4 ? 'HWIO' : t.shape.length === 2 ? 'IO' : undefined;
  return t.shape.length === 4 ? 'OIHW' : t.shape.length === 2 ? 'OI' : undefined;
}

/** The tensor named, else the first kernel with >= 2T features, else the widest (as for fine-tuning). */
export function chooseTensor(tensors: readonly NamedTensor[], format: ModelFormat, bits: number, name?: string, onnx?: OnnxModelInfo): Candidate {
  const candidates: Candidate[] = [];
  for (const t of tensors) {
    const layout = layoutOf(t, format, onnx);
    if (!layout || t.shape.length !== layout.length) continue;
    candidates.push({ tensor: t, layout, features: kernelGeometry(t.shape, layout).features });
  }
  if (name !== undefined) {
    const c = candidates.find((x) => x.tensor.name === name);
    if (!c) throw new EmbedError('EMBED_LAYER_NOT_FOUND', `no convolution or dense weight named "${name.slice(0, 80)}"; candidates: ${candidates.map((x) => x.tensor.name).join(', ').slice(0, 300) || '(none)'}`);
    return c;
  }
  if (candidates.length === 0) throw new EmbedError('EMBED_LAYER_NOT_FOUND', 'the model has no float convolution or dense weight to carry a weight mark');
  return candidates.find((c) => c.features >= 2 * bits) ?? candidates.reduce((a, b) => (b.features > a.features ? b : a));
}

async function accuracyOf(path: string, format: ModelFormat, onnx: OnnxModelInfo | undefined, data: LabelledImages): Promise<number | undefined> {
  if (format === 'onnx') return onnxAccuracy(path, onnx!, data);
  if (format === 'tfjs-layers') {
    const m = await loadLayersModel(path);
    try {
      return evaluateAccuracy(m, data);
    } finally {
      m.dispose();
    }
  }
  return undefined; // safetensors holds weights, not a graph to run
}

export async function embedTrainingFree(o: EmbedOptions): Promise<EmbedSummary> {
  const started = performance.now();
  const scheme = o.scheme ?? 'weight';
  if (scheme !== 'weight') throw new EmbedError('EMBED_UNSUPPORTED', `--training-free embeds the weight mark only; a ${scheme} mark needs fine-tuning (drop --training-free, with a TF.js model)`);
  const T = o.bits ?? 256;
  if (!Number.isSafeInteger(T) || T < 1) throw new RangeError(`bits must be a positive integer, got ${T}`);
  const actor = o.actor ?? 'hallmark';
  const backendName = 'none (training-free)';
  const emit = (e: Omit<EmbedEvent, 'backend'>) => o.onProgress?.({ ...e, backend: backendName });
  emit({ phase: 'load', message: o.model });
  checkOutputFree(o.out);
  const input = await identifyModelOrThrow(o.model);
  await checkPassphrase(o.home.dir, o.passphrase);
  const onnx = input.format === 'onnx' ? await inspectOnnx(o.model) : undefined;
  const { tensors } = await readModelTensors(o.model);
  const chosen = chooseTensor(tensors, input.format, T, o.tensor, onnx);
  const kernel = tensorToFloat32(chosen.tensor);
  const strength = DEFAULT_MARGIN_STRENGTH;
  const margin = suggestMargin(kernel, chosen.tensor.shape, chosen.layout, strength);

  let data: DatasetSource | undefined;
  let test: LabelledImages | undefined;
  if (o.dataset !== undefined) {
    data = await loadDatasetSource(o.dataset);
    test = limitImages(data.test, o.testLimit);
  }
  if (input.format === 'tfjs-layers' || input.format === 'onnx') await tf.ready();
  emit({ phase: 'evaluate', message: test ? `clean accuracy before, on ${data!.testNote}` : 'no dataset: accuracy not measured' });
  const before = test ? await accuracyOf(o.model, input.format, onnx, test) : undefined;

  const parameters: JsonObject = {
    derivation: 'hallmark/watermark/v1',
    trainingFree: true,
    weight: { bits: T, tensor: chosen.tensor.name, shape: [...chosen.tensor.shape], layout: chosen.layout, dtype: chosen.tensor.dtype, marginStrength: strength, margin },
  };
  const ledger = o.home.ledger;
  const inputIndex = ensureModelRegistered(ledger, input, actor);
  const ds = data ? ensureDatasetRegistered(ledger, data, actor) : undefined;
  const committed = await commitWithSecret({ home: o.home, ownerSeed: o.ownerSeed, model: input.id, scheme, parameters, passphrase: o.passphrase, actor, ...(o.tsa ? { tsa: o.tsa } : {}) });
  emit({ phase: 'commit', message: `watermark.committed at entry ${committed.index}, sealed by checkpoint ${committed.seal.checkpointSize}${committed.seal.timestamp ? ` and an RFC 3161 token of ${committed.seal.timestamp.genTime}` : ''}` });

  const keys = deriveWatermarkKeys(committed.root, T);
  const projection = generateProjection(keys.projectionSeed, T, chosen.features);
  const result = embedWeightMarkTrainingFree({ kernel, shape: chosen.tensor.shape, layout: chosen.layout, projection, bits: keys.bits, margin });
  const dtype = chosen.tensor.dtype as 'F32' | 'F16' | 'BF16' | 'F64';
  emit({ phase: 'write', message: o.out });
  await writeModelTensors(o.model, o.out, [tensorFromFloat32(chosen.tensor.name, dtype, chosen.tensor.shape, result.kernel)]);

  // Measure on what was written, as a verifier would (F16/BF16 rounding included).
  const written = (await readModelTensors(o.out)).tensors.find((t) => t.name === chosen.tensor.name)!;
  const w = meanOverOutputChannels(tensorToFloat32(written), written.shape, chosen.layout);
  const cmp = compareBits(keys.bits, extractBits(projection, w));
  const after = test ? await accuracyOf(o.out, input.format, onnx && (await inspectOnnx(o.out)), test) : undefined;

  const output = await identifyModel(o.out);
  const reg = registerOutput(ledger, {
    output, input: input.id, ...(ds ? { dataset: ds.id } : {}), actor,
    parameters: { scheme, parameters, commitment: committed.commitment },
    startedOn: new Date(Date.now() - (performance.now() - started)), finishedOn: new Date(),
  });
  emit({ phase: 'register', message: `model.registered at entry ${reg.model}, lineage.derived at ${reg.derivation}` });
  return {
    scheme,
    trainingFree: true,
    backend: { name: 'none', detail: input.format === 'onnx' && test ? 'no training; accuracy by onnxruntime-node' : 'no training' },
    input: { path: o.model, id: input.id, format: input.format },
    output: { path: o.out, id: output.id, format: output.format },
    ...(data && ds ? { dataset: { name: data.name, id: ds.id, accuracyOn: test === data.test ? data.testNote : `first ${test!.count} of ${data.testNote}` } } : {}),
    weight: {
      layer: chosen.tensor.name, shape: chosen.tensor.shape, layout: chosen.layout, bits: T, bitErrors: cmp.errors, ber: cmp.ber,
      berBefore: result.bitErrorsBefore / T, margin, relativeChange: result.relativeChange,
    },
    ...(before !== undefined ? { cleanAccuracyBefore: before } : {}),
    ...(after !== undefined ? { cleanAccuracyAfter: after } : {}),
    ...(before !== undefined && after !== undefined ? { accuracyDropPoints: (before - after) * 100 } : {}),
    seconds: (performance.now() - started) / 1000,
    commitment: committed.commitment,
    seal: committed.seal,
    secret: { id: committed.secretId, path: committed.secretPath },
    ledger: { inputModel: inputIndex, ...(ds ? { dataset: ds.index } : {}), committed: committed.index, model: reg.model, derivation: reg.derivation },
    ok: cmp.ber === 0,
  };
}
