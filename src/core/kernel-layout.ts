// Kernel layouts and the output-channel mean the Uchida mark lives in. A converter may store the
// same weights as TF.js (conv HWIO, dense [in, out]) or ONNX (Conv OIHW, Gemm with transB = 1
// [out, in]); every layout maps to one canonical feature order, that of TF.js: (h, w, c_in) for
// a convolution, `in` for a dense layer. So w is the same vector, element for element, whichever
// file the kernel came from, and permuting output channels (a relabelling a thief can do for
// free) leaves it unchanged.

/** HWIO: [kh, kw, cin, cout] (TF.js conv); OIHW: [cout, cin, kh, kw] (ONNX Conv);
 *  IO: [in, out] (TF.js dense, ONNX MatMul); OI: [out, in] (ONNX Gemm with transB = 1);
 *  KIO: [k, cin, cout] (TF.js Conv1D); OIK: [cout, cin, k] (ONNX Conv on 1-D signals, PyTorch Conv1d).
 *  A 1-D kernel's canonical feature order is (k, c_in), that of a [1, k, cin, cout] HWIO kernel,
 *  so a Conv1d stored as a 1xk Conv2D by a converter reads the same w. */
export type KernelLayout = 'HWIO' | 'OIHW' | 'IO' | 'OI' | 'KIO' | 'OIK';
export const KERNEL_LAYOUTS: readonly KernelLayout[] = ['HWIO', 'OIHW', 'IO', 'OI', 'KIO', 'OIK'];

/** Candidate layouts of a tensor of this rank (the order verifiers try them in). */
export function layoutsForRank(rank: number): KernelLayout[] {
  return rank === 4 ? ['HWIO', 'OIHW'] : rank === 3 ? ['KIO', 'OIK'] : rank === 2 ? ['IO', 'OI'] : [];
}

export interface KernelGeometry {
  readonly layout: KernelLayout;
  readonly shape: readonly number[];
  /** Number of output channels (cout, or out). */
  readonly outputs: number;
  /** M: the length of w (kh * kw * cin, k * cin, or in). */
  readonly features: number;
  /** Flat index into the kernel of (output channel o, canonical feature f). */
  index(o: number, f: number): number;
}

const MAX_ELEMENTS = 2 ** 31 - 1;

/** Validates a shape against a layout and returns the index mapping. */
export function kernelGeometry(shape: readonly number[], layout: KernelLayout): KernelGeometry {
  if (!KERNEL_LAYOUTS.includes(layout)) throw new RangeError(`unknown kernel layout ${JSON.stringify(layout)}`);
  const rank = layout.length;
  if (!Array.isArray(shape) || shape.length !== rank || !shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new RangeError(`layout ${layout} needs a shape of ${rank} positive integers, got ${JSON.stringify(shape)}`);
  }
  const total = shape.reduce((a, b) => a * b, 1);
  if (total > MAX_ELEMENTS) throw new RangeError(`kernel of ${total} elements is too large`);
  const [a, b, c, d] = shape as [number, number, number, number];
  switch (layout) {
    case 'HWIO': // [kh, kw, cin, cout]; f = (h*kw + w)*cin + c is already the flat prefix
      return { layout, shape, outputs: d, features: a * b * c, index: (o, f) => f * d + o };
    case 'OIHW': {
      // [cout, cin, kh, kw]; canonical f = (h*kw + w)*cin + c
      const [cin, kh, kw] = [b, c, d];
      return {
        layout, shape, outputs: a, features: cin * kh * kw,
        index: (o, f) => {
          const ci = f % cin;
          const hw = (f - ci) / cin;
          return (o * cin + ci) * kh * kw + hw;
        },
      };
    }
    case 'KIO': // [k, cin, cout]; f = k*cin + c is the flat prefix
      return { layout, shape, outputs: c, features: a * b, index: (o, f) => f * c + o };
    case 'OIK': {
      // [cout, cin, k]; canonical f = k*cin + c (the fan-in, as a dense kernel's input)
      const [cin, k] = [b, c];
      return {
        layout, shape, outputs: a, features: cin * k,
        index: (o, f) => {
          const ci = f % cin;
          return (o * cin + ci) * k + (f - ci) / cin;
        },
      };
    }
    case 'IO':
      return { layout, shape, outputs: b, features: a, index: (o, f) => f * b + o };
    case 'OI':
      return { layout, shape, outputs: a, features: b, index: (o, f) => o * b + f };
  }
}

function checkData(data: Float32Array, g: KernelGeometry): void {
  if (!(data instanceof Float32Array)) throw new TypeError('kernel data must be a Float32Array');
  if (data.length !== g.outputs * g.features) {
    throw new RangeError(`kernel data has ${data.length} elements, shape ${JSON.stringify(g.shape)} needs ${g.outputs * g.features}`);
  }
}

/** w: the kernel averaged over output channels, in canonical feature order (float64 sums,
 *  output channels in ascending order, so every layout gives the same bits). */
export function meanOverOutputChannels(data: Float32Array, shape: readonly number[], layout: KernelLayout): Float64Array {
  const g = kernelGeometry(shape, layout);
  checkData(data, g);
  const w = new Float64Array(g.features);
  for (let f = 0; f < g.features; f++) {
    let s = 0;
    for (let o = 0; o < g.outputs; o++) s += data[g.index(o, f)]!;
    w[f] = s / g.outputs;
  }
  return w;
}

/** A kernel-shaped array with `scale * v[f]` at every output channel of feature f: adding it to
 *  a kernel shifts w by scale * v; with scale = 1/outputs it is the gradient of a loss in w. */
export function expandOverOutputChannels(v: ArrayLike<number>, shape: readonly number[], layout: KernelLayout, scale = 1): Float32Array {
  const g = kernelGeometry(shape, layout);
  if (v.length !== g.features) throw new RangeError(`vector has ${v.length} elements, the kernel has ${g.features} features`);
  const out = new Float32Array(g.outputs * g.features);
  for (let f = 0; f < g.features; f++) {
    const x = scale * v[f]!;
    for (let o = 0; o < g.outputs; o++) out[g.index(o, f)] = x;
  }
  return out;
}

/** A copy of the kernel with delta[f] added to every output channel of feature f, so that the
 *  mean over output channels moves by delta (up to float32 rounding). */
export function addOverOutputChannels(data: Float32Array, shape: readonly number[], layout: KernelLayout, delta: ArrayLike<number>, channelWeights?: ArrayLike<number>): Float32Array {
  const g = kernelGeometry(shape, layout);
  checkData(data, g);
  if (delta.length !== g.features) throw new RangeError(`delta has ${delta.length} elements, the kernel has ${g.features} features`);
  if (channelWeights && channelWeights.length !== g.outputs) throw new RangeError(`${channelWeights.length} channel weights for ${g.outputs} output channels`);
  const out = Float32Array.from(data);
  for (let f = 0; f < g.features; f++) {
    const x = delta[f]!;
    for (let o = 0; o < g.outputs; o++) {
      const i = g.index(o, f);
      out[i] = data[i]! + x * (channelWeights ? channelWeights[o]! : 1);
    }
  }
  return out;
}

/** Reorders a kernel from one layout to another (same weights), e.g. to mimic a converter. */
export function convertKernelLayout(data: Float32Array, shape: readonly number[], from: KernelLayout, to: KernelLayout): { data: Float32Array; shape: number[] } {
  const g = kernelGeometry(shape, from);
  checkData(data, g);
  if (from.length !== to.length) throw new RangeError(`cannot convert a ${from} kernel to ${to}`);
  let outShape: number[];
  if (from.length === 2) outShape = to === 'IO' ? [g.features, g.outputs] : [g.outputs, g.features];
  else if (from.length === 3) {
    const [k, cin] = from === 'KIO' ? [shape[0]!, shape[1]!] : [shape[2]!, shape[1]!];
    outShape = to === 'KIO' ? [k, cin, g.outputs] : [g.outputs, cin, k];
  } else {
    const [kh, kw, cin] = from === 'HWIO' ? [shape[0]!, shape[1]!, shape[2]!] : [shape[2]!, shape[3]!, shape[1]!];
    outShape = to === 'HWIO' ? [kh, kw, cin, g.outputs] : [g.outputs, cin, kh, kw];
  }
  const h = kernelGeometry(outShape, to);
  const out = new Float32Array(data.length);
  for (let o = 0; o < g.outputs; o++) for (let f = 0; f < g.features; f++) out[h.index(o, f)] = data[g.index(o, f)]!;
  return { data: out, shape: outShape };
}
