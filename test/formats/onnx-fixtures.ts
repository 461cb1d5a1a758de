// Tiny real ONNX models built with onnx-proto, for tests. Each is valid for onnxruntime.
import { onnx } from '../../src/formats/onnx-tensor.js';

type Storage = 'raw' | 'typed' | 'external';

function f32Tensor(name: string, dims: number[], values: number[], storage: Storage, location = 'weights.bin', offset = 0) {
  const t: Record<string, unknown> = { name, dims, dataType: 1 };
  if (storage === 'raw') t.rawData = new Uint8Array(Float32Array.from(values).buffer);
  else if (storage === 'typed') t.floatData = values;
  else {
    t.dataLocation = 1;
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(values.length * 4) },
    ];
  }
  return t;
}

const valueInfo = (name: string, dims: number[]) => ({
  name,
  type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

export const W0 = [0.5, -1, 2, 1, 0.25, -0.5, -2, 1.5, 0, 0.75, -0.25, 1];
export const B0 = [0.1, -0.2, 0.3];

/** Y = Relu(Gemm(X[2,4], W[4,3], B[3])), W and B stored as asked. */
export function gemmReluModel(opts: { w?: Storage; b?: Storage; location?: string; offset?: number } = {}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'hallmark-test',
    producerVersion: '1',
    docString: 'Gemm + Relu test model',
    metadataProps: [{ key: 'purpose', value: 'tests' }],
    graph: {
      name: 'gemm_relu',
      node: [
        { opType: 'Gemm', input: ['X', 'W', 'B'], output: ['H'], name: 'gemm', attribute: [{ name: 'alpha', type: 1, f: 1 }] },
        { opType: 'Relu', input: ['H'], output: ['Y'], name: 'relu' },
      ],
      initializer: [f32Tensor('W', [4, 3], W0, opts.w ?? 'raw', opts.location, opts.offset), f32Tensor('B', [3], B0, opts.b ?? 'typed')],
      input: [valueInfo('X', [2, 4])],
      output: [valueInfo('Y', [2, 3])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Z = Reshape(MatMul(X[2,4], W[4,3]) + C[3], S) with S an int64_data tensor [3, 2]. */
export function matmulAddReshapeModel(): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'matmul_add',
      node: [
        { opType: 'MatMul', input: ['X', 'W'], output: ['M'] },
        { opType: 'Add', input: ['M', 'C'], output: ['A'] },
        { opType: 'Reshape', input: ['A', 'S'], output: ['Z'] },
      ],
      initializer: [
        f32Tensor('W', [4, 3], W0, 'raw'),
        f32Tensor('C', [3], B0, 'raw'),
        { name: 'S', dims: [2], dataType: 7, int64Data: [3, 2] },
      ],
      input: [valueInfo('X', [2, 4])],
      output: [valueInfo('Z', [3, 2])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Naive reference: relu(X W + B), row-major. */
export function gemmRelu(x: number[], w: number[], b: number[], relu = true): number[] {
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      let s = b[j]!;
      for (let k = 0; k < 4; k++) s += x[i * 4 + k]! * w[k * 3 + j]!;
      s = Math.fround(s);
      out.push(relu ? Math.max(0, s) : s);
    }
  }
  return out;
}
