// Soft targets for knowledge distillation (Hinton, Vinyals & Dean 2015): a teacher's class
// probabilities softened at a temperature, which fitModel trains on as target distributions.
import { TrainError } from './errors.js';

/**
 * Rows of probabilities raised to 1/T and renormalised: softmax(log p / T), the teacher's
 * distribution at temperature T (computed in log space, so a probability that underflows to 0 stays 0).
 */
export function softenScores(p: Float32Array, classes: number, temperature: number): Float32Array {
  const out = new Float32Array(p.length);
  for (let r = 0; r < p.length / classes; r++) {
    const row = p.subarray(r * classes, (r + 1) * classes);
    let max = -Infinity;
    for (const v of row) {
      if (!(v >= 0 && v <= 1)) max = NaN;
      else if (v > 0) max = Math.max(max, Math.log(v) / temperature);
    }
    if (!Number.isFinite(max)) throw new TrainError('TRAIN_BAD_DATA', `the teacher's scores for sample ${r} are not probabilities`);
    let sum = 0;
    for (let j = 0; j < classes; j++) sum += row[j]! > 0 ? Math.exp(Math.log(row[j]!) / temperature - max) : 0;
    for (let j = 0; j < classes; j++) out[r * classes + j] = row[j]! > 0 ? Math.exp(Math.log(row[j]!) / temperature - max) / sum : 0;
  }
  return out;
}
