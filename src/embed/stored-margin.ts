// The training-free margin, made to survive the file's own storage: a model whose weights are
// kept as uint8/uint16 (TF.js affine quantization) or F16/BF16 is rounded when the marked tensor
// is written back, and that rounding flipped 13% of the bits on face-api's uint8 model. Here the
// write is simulated in memory (the same quantize/dequantize or float cast the writer does) and
// the margin grows until every bit reads back from the stored values, so the mark keeps the
// detection target's full budget for later attacks (int8, F16, noise).
import { readModelJson, storageOfSpec, tensorFromFloat32, tensorToFloat32, type NamedTensor } from '../formats/index.js';
import type { TfjsManifestGroup } from '../formats/index.js';

/** v -> the values a reader gets back after the writer stores v in the tensor's own form. */
export type StoredRoundTrip = (v: Float32Array) => Float32Array;

/** How the chosen tensor is stored: affine-quantized TF.js weights, else its own float dtype. */
export async function storedRoundTrip(modelPath: string, tfjs: boolean, t: NamedTensor): Promise<{ roundTrip: StoredRoundTrip; form: string }> {
  if (tfjs) {
    const { json } = await readModelJson(modelPath);
    const groups = (json.weightsManifest ?? []) as TfjsManifestGroup[];
    for (const g of groups) {
      const spec = g.weights.find((w) => w.name === t.name);
      const affine = spec ? storageOfSpec(spec).affine : undefined;
      if (spec && affine) {
        const { scale, min, max } = affine;
        return {
          form: `${spec.quantization!.dtype} (scale ${scale.toPrecision(3)})`,
          roundTrip: (v) => v.map((x) => (scale === 0 ? min : Math.min(max, Math.max(0, Math.round((x - min) / scale))) * scale + min)),
        };
      }
    }
  }
  const d = t.dtype;
  if (d === 'F16' || d === 'BF16') return { form: d, roundTrip: (v) => tensorToFloat32(tensorFromFloat32(t.name, d, t.shape, v)) };
  return { form: t.dtype, roundTrip: (v) => v };
}

/**
 * Re-plans with a larger margin (x1.5 a step, at most `tries` steps) while the stored values lose
 * bits. Returns the plan whose stored values read back with no error, or the last one tried.
 */
export function marginThatSurvivesStorage<R extends { kernel: Float32Array }>(
  margin: number, plan: (margin: number) => R, errorsAfterStorage: (kernel: Float32Array) => number, tries = 6,
): { margin: number; result: R; errors: number; initialErrors: number; steps: number } {
  let m = margin;
  let result = plan(m);
  let errors = errorsAfterStorage(result.kernel);
  const initialErrors = errors;
  let steps = 0;
  while (errors > 0 && steps < tries) {
    m *= 1.5;
    steps++;
    result = plan(m);
    errors = errorsAfterStorage(result.kernel);
  }
  return { margin: m, result, errors, initialErrors, steps };
}
