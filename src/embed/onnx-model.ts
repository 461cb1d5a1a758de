// What the training-free path needs from an ONNX file beyond its tensors: the layout of each
// weight (from the node that consumes it) and the clean accuracy of the whole graph, run with
// onnxruntime-node. The graph is untrusted: it is decoded through formats' bounded reader and
// onnxruntime's own checks, and any failure there becomes a FormatError.
import * as ort from 'onnxruntime-node';
import type { KernelLayout } from '../core/index.js';
import { decodeOnnxModel, FormatError, recurrentInputWeights, scanOnnx } from '../formats/index.js';
import { readWholeFile } from '../formats/read-file.js';
import type { LabelledImages } from '../train/fit.js';

type Long = number | { low: number; high: number };
const num = (v: Long | null | undefined) => (v == null ? 0 : typeof v === 'number' ? v : v.high * 2 ** 32 + (v.low >>> 0));

export interface OnnxModelInfo {
  /** Weight name -> layout, for the weights of Conv (OIHW, or OIK for 1-D), Gemm (OI with transB = 1, else IO), MatMul (IO)
   *  and the 2-D input weights of LSTM, GRU and RNN nodes (OI, followed through Slice, Concat and Unsqueeze). */
  readonly layouts: ReadonlyMap<string, KernelLayout>;
  /** Weights of grouped (including depthwise) convolutions. */
  readonly grouped: ReadonlySet<string>;
  /** Input weights of recurrent nodes -> their gates (blocks of rows: LSTM 4, GRU 3, RNN 1). */
  readonly gates: ReadonlyMap<string, number>;
  readonly input: { readonly name: string; readonly dims: readonly (number | null)[] };
  readonly output: string;
}

export async function inspectOnnx(path: string): Promise<OnnxModelInfo> {
  const bytes = await readWholeFile(path);
  const m = decodeOnnxModel(bytes);
  const g = m.graph;
  if (!g) throw new FormatError('FORMAT_CORRUPT', `${path}: ONNX model has no graph`);
  // Every graph, subgraphs included (weights in If/Loop branches are weights too).
  const layouts = new Map<string, KernelLayout>();
  const grouped = new Set<string>();
  const scan = scanOnnx(bytes);
  const shapes = new Map(scan.tensors.map((t) => [t.name, t.shape]));
  const rank = new Map(scan.tensors.map((t) => [t.name, t.shape.length]));
  for (const n of scan.nodes) {
    const w = n.inputs[1];
    if (!w) continue;
    if (n.opType === 'Conv') {
      if ((n.ints.get('group') ?? 1) > 1) grouped.add(w); // depthwise or grouped: skipped, see chooseTensor
      else layouts.set(w, rank.get(w) === 3 ? 'OIK' : 'OIHW'); // Conv on 1-D signals: [out, in, k]
    } else if (n.opType === 'MatMul') layouts.set(w, 'IO');
    else if (n.opType === 'Gemm') layouts.set(w, n.ints.get('transB') === 1 ? 'OI' : 'IO');
  }
  const gates = new Map<string, number>();
  for (const [w, r] of recurrentInputWeights(scan.nodes)) {
    const shape = shapes.get(w);
    if (shape?.length !== 2 || shape[0] !== r.rows) continue;
    layouts.set(w, 'OI');
    gates.set(w, r.gates);
  }
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const input = (g.input ?? []).find((i) => !inits.has(i.name ?? ''));
  const output = g.output?.[0]?.name;
  if (!input?.name || !output) throw new FormatError('FORMAT_UNSUPPORTED', `${path}: ONNX graph has no data input or no output`);
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null && num(d.dimValue as Long) > 0 ? num(d.dimValue as Long) : null));
  return { layouts, grouped, gates, input: { name: input.name, dims }, output };
}

/** Fraction of images the ONNX model labels right; NHWC images are transposed when the graph takes NCHW. */
export async function onnxAccuracy(path: string, info: OnnxModelInfo, data: LabelledImages, batchSize = 500): Promise<number> {
  const [, h, w, c] = data.shape;
  const d = info.input.dims;
  const nchw = d.length === 4 && d[1] === c && d[2] === h && d[3] === w && !(d[3] === c && d[1] === h);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path);
  } catch (err) {
    throw new FormatError('FORMAT_UNSUPPORTED', `onnxruntime cannot load ${path}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  let correct = 0;
  try {
    for (let from = 0; from < data.count; from += batchSize) {
      const n = Math.min(batchSize, data.count - from);
      let x = data.images.subarray(from * h * w * c, (from + n) * h * w * c);
      if (nchw) x = toNchw(x, n, h, w, c);
      const feeds = { [info.input.name]: new ort.Tensor('float32', Float32Array.from(x), nchw ? [n, c, h, w] : [n, h, w, c]) };
      const out = (await session.run(feeds))[info.output]!;
      const scores = out.data as Float32Array;
      const k = scores.length / n;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (scores[i * k + j]! > scores[i * k + best]!) best = j;
        if (best === data.labels[from + i]) correct++;
      }
    }
  } catch (err) {
    throw new FormatError('FORMAT_UNSUPPORTED', `onnxruntime cannot run ${path} on ${h}x${w}x${c} images: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  } finally {
    await session.release();
  }
  return data.count === 0 ? 0 : correct / data.count;
}

function toNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let ch = 0; ch < c; ch++) {
    out[((b * c + ch) * h + y) * w + z] = x[((b * h + y) * w + z) * c + ch]!;
  }
  return out;
}
