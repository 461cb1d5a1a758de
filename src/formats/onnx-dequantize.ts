// The float weights behind DequantizeLinear (quantized ONNX models: QDQ format). A node
// y = DequantizeLinear(x, x_scale, x_zero_point?, axis) whose x is a stored int8/uint8/int16/
// uint16/int32 tensor and whose scale (and zero point) are stored too is a weight y of F32 values
// (x - zero_point) * scale, per tensor or per axis (opset 13). Reading dequantizes; writing
// quantizes back into x with the same scale and zero point (round half to even, saturate), so
// the file stays a quantized model of the same size.
import { FormatError } from './errors.js';
import type { OnnxNodeInfo, OnnxTensorLocation } from './onnx-walk.js';
import { elementCount, tensorToFloat32, type DType, type NamedTensor } from './tensor.js';

const RANGES: Partial<Record<DType, [number, number]>> = {
  I8: [-128, 127], U8: [0, 255], I16: [-32768, 32767], U16: [0, 65535], I32: [-2147483648, 2147483647],
};

export interface DequantizedWeight {
  /** The node's output name: the name the weight is read and written under. */
  readonly name: string;
  readonly x: OnnxTensorLocation;
  readonly shape: number[];
  readonly scale: Float32Array;
  readonly zeroPoint: Float32Array;
  /** Axis of per-axis quantization, or -1 for per-tensor. */
  readonly axis: number;
}

/** DequantizeLinear nodes whose inputs are all stored tensors. `bytesOf` gives a located tensor's bytes. */
export function findDequantized(
  nodes: readonly OnnxNodeInfo[], tensors: readonly OnnxTensorLocation[], valuesOf: (t: OnnxTensorLocation) => NamedTensor | undefined,
): DequantizedWeight[] {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const out: DequantizedWeight[] = [];
  for (const n of nodes) {
    if (n.opType !== 'DequantizeLinear' || !n.outputs[0] || byName.has(n.outputs[0])) continue;
    const x = byName.get(n.inputs[0] ?? '');
    const s = byName.get(n.inputs[1] ?? '');
    if (!x || !s || !RANGES[x.dtype]) continue;
    const sv = valuesOf(s);
    if (!sv || !['F32', 'F16', 'BF16'].includes(s.dtype)) continue;
    const zl = n.inputs[2] ? byName.get(n.inputs[2]) : undefined;
    if (n.inputs[2] && !zl) continue; // a computed zero point: not a stored weight
    const zv = zl ? valuesOf(zl) : undefined;
    const scale = tensorToFloat32(sv);
    const zeroPoint = zv ? tensorToFloat32(zv) : new Float32Array(scale.length);
    const rank = x.shape.length;
    let axis = -1;
    if (scale.length !== 1) {
      const a = n.ints.get('axis') ?? 1;
      axis = a < 0 ? a + rank : a;
      if (axis < 0 || axis >= rank || x.shape[axis] !== scale.length) {
        throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: DequantizeLinear ${n.outputs[0]} has ${scale.length} scales for axis ${a} of [${x.shape.join(', ')}]`);
      }
    }
    if (zeroPoint.length !== scale.length) throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: DequantizeLinear ${n.outputs[0]} has ${zeroPoint.length} zero points for ${scale.length} scales`);
    out.push({ name: n.outputs[0], x, shape: x.shape, scale, zeroPoint, axis });
  }
  return out;
}

/** Index of the scale that applies to flat element i. */
function scaleIndex(d: DequantizedWeight): (i: number) => number {
  if (d.axis < 0) return () => 0;
  const inner = d.shape.slice(d.axis + 1).reduce((a, b) => a * b, 1);
  const len = d.shape[d.axis]!;
  return (i) => Math.floor(i / inner) % len;
}

export function dequantize(d: DequantizedWeight, x: NamedTensor): NamedTensor {
  const q = tensorToFloat32(x);
  const k = scaleIndex(d);
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i]! - d.zeroPoint[k(i)]!) * d.scale[k(i)]!;
  return { name: d.name, dtype: 'F32', shape: [...d.shape], data: new Uint8Array(out.buffer) };
}

/** F32 values back to x's integer dtype, with x's scale and zero point. */
export function quantize(d: DequantizedWeight, values: Float32Array): NamedTensor {
  const n = elementCount(d.shape);
  if (values.length !== n) throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: ${values.length} values for DequantizeLinear weight ${d.name} of [${d.shape.join(', ')}]`);
  const [lo, hi] = RANGES[d.x.dtype]!;
  const k = scaleIndex(d);
  const q = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = d.scale[k(i)]!;
    const v = s === 0 ? d.zeroPoint[k(i)]! : roundHalfEven(values[i]! / s) + d.zeroPoint[k(i)]!;
    q[i] = Math.min(hi, Math.max(lo, v));
  }
  const Ctor = { I8: Int8Array, U8: Uint8Array, I16: Int16Array, U16: Uint16Array, I32: Int32Array }[d.x.dtype as 'I8'];
  const arr = Ctor.from(q);
  return { name: d.x.name, dtype: d.x.dtype, shape: [...d.shape], data: new Uint8Array(arr.buffer) };
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
