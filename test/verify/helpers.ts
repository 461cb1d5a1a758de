// Shared pieces of the verification tests: keys, a naive exact binomial tail to check against,
// and a fixture kernel marked with the training-free weight mark.
import { deriveWatermarkKeys, deriveWatermarkRoot, embedWeightMarkTrainingFree, generateProjection, suggestMargin, type KernelLayout, type WatermarkKeys } from '../../src/core/index.js';
import { tensorFromFloat32, tensorToFloat32, type NamedTensor } from '../../src/formats/index.js';
import type { WeightMarkKey } from '../../src/verify/white-box.js';

export const FIXTURE = 'fixtures/mnist-cnn';

export function keysFor(ownerByte: number, modelId: string, bits: number): WatermarkKeys {
  return deriveWatermarkKeys(deriveWatermarkRoot(new Uint8Array(32).fill(ownerByte), modelId), bits);
}

/** P[X >= k], X ~ Binomial(n, p = num/den), as an exact rational in BigInt, then a double. */
export function naiveUpperTail(k: number, n: number, num = 1n, den = 2n): number {
  let total = 0n;
  let choose = 1n; // C(n, j), built up from j = 0
  for (let j = 0; j <= n; j++) {
    if (j > 0) choose = (choose * BigInt(n - j + 1)) / BigInt(j);
    if (j >= k) total += choose * num ** BigInt(j) * (den - num) ** BigInt(n - j);
  }
  const scale = den ** BigInt(n);
  // Keep 15 significant digits of total / scale.
  const digits = scale.toString().length - total.toString().length;
  const shift = 10n ** BigInt(Math.max(0, digits + 17));
  return Number((total * shift) / scale) / Number(shift);
}

/** Marks one kernel of a tensor list with the training-free weight mark; returns the new list and key. */
export function markTensor(tensors: readonly NamedTensor[], name: string, layout: KernelLayout, keys: WatermarkKeys): { tensors: NamedTensor[]; key: WeightMarkKey } {
  const t = tensors.find((x) => x.name === name)!;
  const kernel = tensorToFloat32(t);
  const features = layout === 'HWIO' ? t.shape[0]! * t.shape[1]! * t.shape[2]! : layout === 'IO' ? t.shape[0]! : t.shape[1]! * t.shape[2]! * t.shape[3]!;
  const projection = generateProjection(keys.projectionSeed, keys.bits.length, features);
  const r = embedWeightMarkTrainingFree({ kernel, shape: t.shape, layout, projection, bits: keys.bits, margin: suggestMargin(kernel, t.shape, layout, 0.5) });
  return {
    tensors: tensors.map((x) => (x.name === name ? tensorFromFloat32(name, 'F32', t.shape, r.kernel) : x)),
    key: { bits: keys.bits, projectionSeed: keys.projectionSeed, features },
  };
}
