/** Helpers shared by the custom training kernels. */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/**
 * Ops pass Tensors to kernels; a bare TensorInfo gets its own reference, because a wrapper Tensor's
 * dispose releases one backend reference on the shared data.
 */
export function asTensor(info: tf.TensorInfo, backend: tf.KernelBackend): tf.Tensor {
  if (info instanceof tf.Tensor) return tf.clone(info);
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend);
}

/** The named inputs, or a TypeError naming the missing one. */
export function inputsOf(kernel: string, args: KernelArgs, names: readonly string[]): tf.TensorInfo[] {
  return names.map((name) => {
    const info = args.inputs[name];
    if (info === undefined) throw new TypeError(`${kernel}: input ${name} is required`);
    return info;
  });
}

/** Runs `body` on Tensor wrappers of the kernel's inputs and releases them afterwards. */
export function withTensors<T extends tf.Tensor>(backend: unknown, infos: tf.TensorInfo[], body: (ts: tf.Tensor[]) => T): T {
  const ts = infos.map((i) => asTensor(i, backend as tf.KernelBackend));
  try {
    return tf.tidy(() => body(ts));
  } finally {
    tf.dispose(ts);
  }
}

/** Float32 views of wasm tensors' memory; take them after every allocation (memory growth detaches views). */
export function heapF32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new TypeError(`expected a float32 tensor, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/**
 * Zero-stuffs a [B, H, W, C] tensor by (sh, sw): element (i, j) moves to (i*sh, j*sw) and the
 * result is [B, (H-1)*sh+1, (W-1)*sw+1, C] with zeros between; the input of a strided conv's gradient.
 */
export function dilateSpatial(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return t;
  const [b, h, w, c] = t.shape;
  const rows = tf.pad(tf.reshape(t, [b * h, 1, w, c]), [[0, 0], [0, sh - 1], [0, 0], [0, 0]]);
  const cols = tf.pad(tf.reshape(rows, [b * h * sh, w, 1, c]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
  const stuffed = tf.reshape(cols, [b, h * sh, w * sw, c]) as tf.Tensor4D;
  return tf.slice(stuffed, [0, 0, 0, 0], [b, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * Explicit [before, after] padding for a 'valid' window over `length` values that must give `outLength`
 * outputs with a window of `window` values: pads when positive, slices when negative.
 */
export function padOrCrop(t: tf.Tensor4D, rows: [number, number], cols: [number, number]): { t: tf.Tensor4D; pad: tf.backend_util.ExplicitPadding } {
  const [, h, w] = t.shape;
  const cropTop = Math.max(0, -rows[0]);
  const cropBottom = Math.max(0, -rows[1]);
  const cropLeft = Math.max(0, -cols[0]);
  const cropRight = Math.max(0, -cols[1]);
  let out = t;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    out = tf.slice(t, [0, cropTop, cropLeft, 0], [-1, h - cropTop - cropBottom, w - cropLeft - cropRight, -1]);
  }
  const pad: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [Math.max(0, rows[0]), Math.max(0, rows[1])],
    [Math.max(0, cols[0]), Math.max(0, cols[1])],
    [0, 0],
  ];
  return { t: out, pad };
}

/**
 * Copies a float32 tensor's values into `dst` at `offset` without allocating: on wasm straight from
 * the heap (dataSync would allocate a fresh array, and first-touch page faults of large fresh arrays
 * cost milliseconds on sandboxed machines), elsewhere through dataSync.
 */
export function copyValuesInto(t: tf.TensorInfo, dst: Float32Array, offset: number): void {
  const backend = tf.backend();
  const src = tf.getBackend() === 'wasm' ? heapF32(backend as BackendWasm, t) : (tf.engine().readSync(t.dataId) as Float32Array);
  dst.set(src, offset);
}

/**
 * A [KH, KW, A, B] filter rotated by 180 degrees in its spatial axes, and with `swap` its channel
 * axes swapped too ([KH, KW, B, A]): the kernel of an input gradient computed as a forward
 * convolution. One pass over the values, read where the backend keeps them; wasm's Reverse
 * computes an index per element (0.19 ms for the fixture's 3x3x16x32 kernel, against about 5 us).
 */
export function rotatedFilter(filter: tf.Tensor4D, swap: boolean): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  const src = tf.getBackend() === 'wasm' ? heapF32(tf.backend() as BackendWasm, filter) : (tf.engine().readSync(filter.dataId) as Float32Array);
  const out = new Float32Array(src.length);
  const taps = kh * kw;
  const per = a * b;
  for (let t = 0; t < taps; t++) {
    const from = t * per;
    const to = (taps - 1 - t) * per; // (kh-1-i, kw-1-j) is tap taps-1-t
    if (!swap) out.set(src.subarray(from, from + per), to);
    else for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[to + j * a + i] = src[from + i * b + j]!;
  }
  return tf.tensor4d(out, swap ? [kh, kw, b, a] : [kh, kw, a, b]);
}

/**
 * A tensor of shared (or reused) memory: wasm copies it into its heap; the cpu backend would keep a
 * view of memory that the next step overwrites, so it gets a copy.
 */
export function tensorOfShared<R extends tf.Rank>(values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32' = 'float32'): tf.Tensor<R> {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape as never, dtype) as tf.Tensor<R>;
}

/** x [B, H, W, C] zero-padded by the forward padding into xp [B, Hp, Wp, C] (rows and columns past Hp, Wp dropped). */
export function padImagesInto(x: Float32Array, xp: Float32Array, info: tf.backend_util.Conv2DInfo, Hp: number, Wp: number): Float32Array {
  const { batchSize: batch, inHeight: H, inWidth: W, inChannels: C } = info;
  const { top, left } = info.padInfo;
  xp.fill(0);
  // Columns of the input inside the padded row: [c0, c1) of the input go to [c0 + left, c1 + left).
  const c0 = Math.max(0, -left);
  const c1 = Math.min(W, Wp - left);
  if (c1 <= c0) return xp;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < Hp; r++) {
      const src = r - top;
      if (src < 0 || src >= H) continue;
      const from = ((b * H + src) * W + c0) * C;
      xp.set(x.subarray(from, from + (c1 - c0) * C), ((b * Hp + r) * Wp + c0 + left) * C);
    }
  }
  return xp;
}
