// ONNX graphs written by hand with onnx-proto in the shape PyTorch's exporter produces (NCHW
// input, explicit pads, Conv then a separate bias Add, Reshape(0,-1) flatten in NCHW order,
// Gemm with transB=1, MatMul + Add), with seeded random weights.
import { onnx } from '../../src/formats/onnx-tensor.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export function toNchw(data: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k]!;
  }
  return out;
}

type Node = { opType: string; input: string[]; output: string[]; attribute?: unknown[] };

export function graphModel(nodes: Node[], inits: { name: string; dims: number[]; values: Float32Array | number[]; int64?: boolean }[], input: { name: string; dims: (number | string)[] }, output: { name: string; dims: (number | string)[] }, opset = 13): Uint8Array {
  const vi = (v: { name: string; dims: (number | string)[] }) => ({
    name: v.name,
    type: { tensorType: { elemType: 1, shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'hallmark-test-pytorch-style',
    graph: {
      name: 'torch_jit',
      node: nodes.map((n, i) => ({ ...n, name: `${n.opType}_${i}` })),
      initializer: inits.map((t) => (t.int64
        ? { name: t.name, dims: t.dims, dataType: 7, rawData: new Uint8Array(BigInt64Array.from(t.values as number[], (v) => BigInt(v)).buffer) }
        : { name: t.name, dims: t.dims, dataType: 1, floatData: Array.from(t.values) })),
      input: [vi(input)],
      output: [vi(output)],
    },
  } as never);
  return onnx.ModelProto.encode(model).finish();
}

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const int = (name: string, v: number) => ({ name, type: 2, i: v });
const float = (name: string, v: number) => ({ name, type: 1, f: v });

export function pytorchStyleCnn(seed: number): Uint8Array {
  const r = rng(seed);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const pos = (n: number) => Float32Array.from({ length: n }, () => 0.5 + r());
  const nodes: Node[] = [
    { opType: 'Conv', input: ['input', 'c1.w', 'c1.b'], output: ['c1'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])] },
    { opType: 'Relu', input: ['c1'], output: ['r1'] },
    { opType: 'MaxPool', input: ['r1'], output: ['p1'], attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])] },
    { opType: 'Conv', input: ['p1', 'c2.w'], output: ['c2'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [0, 0, 1, 1]), ints('strides', [2, 2])] },
    { opType: 'Add', input: ['c2', 'c2.b'], output: ['c2b'] },
    { opType: 'BatchNormalization', input: ['c2b', 'bn.s', 'bn.b', 'bn.m', 'bn.v'], output: ['bn'], attribute: [float('epsilon', 1e-5)] },
    { opType: 'Relu', input: ['bn'], output: ['r2'] },
    { opType: 'AveragePool', input: ['r2'], output: ['p2'], attribute: [ints('kernel_shape', [3, 3]), ints('strides', [2, 2]), ints('pads', [1, 1, 1, 1]), int('count_include_pad', 1)] },
    { opType: 'Reshape', input: ['p2', 'flat.shape'], output: ['flat'] },
    { opType: 'Gemm', input: ['flat', 'fc1.w', 'fc1.b'], output: ['fc1'], attribute: [int('transB', 1), float('alpha', 0.5)] },
    { opType: 'Tanh', input: ['fc1'], output: ['t1'] },
    { opType: 'MatMul', input: ['t1', 'fc2.w'], output: ['mm'] },
    { opType: 'Add', input: ['mm', 'fc2.b'], output: ['logits'] },
    { opType: 'Softmax', input: ['logits'], output: ['probs'], attribute: [int('axis', 1)] },
  ];
  return graphModel(nodes, [
    { name: 'c1.w', dims: [6, 1, 3, 3], values: rand(54, 0.6) }, { name: 'c1.b', dims: [6], values: rand(6, 0.1) },
    { name: 'c2.w', dims: [8, 6, 3, 3], values: rand(432, 0.25) }, { name: 'c2.b', dims: [1, 8, 1, 1], values: rand(8, 0.1) },
    { name: 'bn.s', dims: [8], values: pos(8) }, { name: 'bn.b', dims: [8], values: rand(8, 0.5) }, { name: 'bn.m', dims: [8], values: rand(8, 0.2) }, { name: 'bn.v', dims: [8], values: pos(8) },
    { name: 'flat.shape', dims: [2], values: [0, -1], int64: true },
    { name: 'fc1.w', dims: [32, 128], values: rand(32 * 128, 0.2) }, { name: 'fc1.b', dims: [32], values: rand(32, 0.1) },
    { name: 'fc2.w', dims: [32, 10], values: rand(320, 0.5) }, { name: 'fc2.b', dims: [10], values: rand(10, 0.1) },
  ], { name: 'input', dims: ['batch', 1, 28, 28] }, { name: 'probs', dims: ['batch', 10] }, 11);
}
