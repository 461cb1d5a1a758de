// The second moment of the activations entering a layer, over calibration inputs: the matrix
// E[x x^T] over input channels that the training-free mark's metric uses (core/mark-plan.ts).
import type { ModelFormat } from '../formats/index.js';
import { calibrationBatches, type CalibrationOptions } from './calibration.js';
import { openRunner, type Activation } from './runner.js';

/** Rows (positions x inputs) used at most; more adds time, not information. */
const MAX_ROWS = 8192;

function addMoment(m: Float64Array, c: number, a: Activation, budget: { rows: number }): void {
  const dims = a.dims;
  const axis = a.channelAxis;
  if (dims[axis] !== c) return;
  const inner = dims.slice(axis + 1).reduce((x, y) => x * y, 1);
  const outer = dims.slice(0, axis).reduce((x, y) => x * y, 1);
  const rows = outer * inner;
  const stride = Math.max(1, Math.ceil(rows / Math.max(1, budget.rows)));
  const v = new Float64Array(c);
  for (let r = 0; r < rows && budget.rows > 0; r += stride) {
    const o = Math.floor(r / inner);
    const i = r % inner;
    for (let k = 0; k < c; k++) v[k] = a.data[(o * c + k) * inner + i]!;
    for (let p = 0; p < c; p++) {
      const vp = v[p]!;
      if (vp === 0) continue;
      for (let q = 0; q < c; q++) m[p * c + q] = m[p * c + q]! + vp * v[q]!;
    }
    budget.rows--;
  }
}

/** E[x x^T] (channels x channels) of the layer input for weight `name`, or undefined when unreachable. */
export async function layerInputMoment(path: string, format: ModelFormat, weight: string, channels: number, o: CalibrationOptions): Promise<Float64Array | undefined> {
  const runner = await openRunner(path, format);
  try {
    const { batches } = calibrationBatches(runner.inputs, o);
    const m = new Float64Array(channels * channels);
    const budget = { rows: MAX_ROWS };
    let seen = 0;
    for (const feeds of batches) {
      if (budget.rows <= 0) break;
      const a = await runner.layerInput(weight, feeds);
      if (!a || a.dims[a.channelAxis] !== channels) return undefined;
      const before = budget.rows;
      addMoment(m, channels, a, budget);
      seen += before - budget.rows;
    }
    if (seen === 0) return undefined;
    for (let i = 0; i < m.length; i++) m[i] = m[i]! / seen;
    return m;
  } finally {
    await runner.close();
  }
}
