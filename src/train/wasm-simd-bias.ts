/**
 * A bias's two per-step passes as WebAssembly SIMD in the wasm backend's own heap (the assembler:
 * wasm-simd.ts): adding a [C] bias to every row of a [..., C] activation, and its gradient, the
 * sums of the C columns over every row.
 *
 * - Add: wasm's own kernel broadcasts the bias through a general index computation per element
 *   (0.4 ms for the fixture's conv1 at batch 32); here each row is C/4 vector adds.
 * - Column sums: accumulated in float64 down the rows, as the cpu backend and the JavaScript
 *   form (wasm-sum.ts) do, four columns per vector load (two f64x2 sums), then rounded once to
 *   float32. The JavaScript form read the whole tensor once per column.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addTo, doWhile, get, i32Const, moduleBytes, OP, set, simd, SIMD_OP, simdKernel, v128Load, v128Store } from './wasm-simd.js';

/** Columns up to this many take the SIMD column sums (one module per count; larger: JavaScript). */
export const SIMD_SUM_MAX_COLUMNS = 4096;

const SHUFFLE = 0x0d;
const F32X4_DEMOTE_F64X2_ZERO = 0x5e;
const F64X2_PROMOTE_LOW_F32X4 = 0x5f;
const F64X2_ADD = 0xf0;
/** i8x16.shuffle of two vectors by 16 lane indices (0-15 the first, 16-31 the second). */
const shuffle = (lanes: number[]) => [...simd(SHUFFLE), ...lanes];
const HIGH_TO_LOW = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];
const LOWS_OF_BOTH = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];

// Bias add: (a, bias, out, rows) with the row's byte length baked in.
const [A, BIAS, OUT, ROWS] = [0, 1, 2, 3];
const [ROW, J, P] = [4, 5, 6];

export function biasAddModuleBytes(columns: number): Uint8Array {
  const { i32Add } = OP;
  const rowBytes = columns * 4;
  const vector = [
    ...get(OUT), ...get(J), i32Add,
    ...get(A), ...get(J), i32Add, ...v128Load(0),
    ...get(BIAS), ...get(J), i32Add, ...v128Load(0),
    ...simd(SIMD_OP.f32x4Add), ...v128Store(0),
    ...addTo(J, i32Const(16)),
  ];
  return moduleBytes(4, 3, 0, [
    ...i32Const(0), ...set(ROW),
    ...doWhile([
      ...i32Const(0), ...set(J),
      ...i32Const(rowBytes), ...set(P),
      ...doWhile(vector, J, P),
      ...addTo(A, i32Const(rowBytes)), ...addTo(OUT, i32Const(rowBytes)), ...addTo(ROW, i32Const(1)),
    ], ROW, ROWS),
  ]);
}

// Column sums: (x, out, rows) with the column count baked in; blocks of up to 16 columns.
const [X, SUMS, NROWS] = [0, 1, 2];
const [PTR, END] = [3, 4];
const FIRST_V128 = 5;

export function columnSumModuleBytes(columns: number): Uint8Array {
  const { i32Add, i32Mul } = OP;
  const rowBytes = columns * 4;
  const zero = [...simd(SIMD_OP.v128Const), ...new Array<number>(16).fill(0)];
  const V = FIRST_V128 + 8;
  const code: number[] = [];
  for (let k0 = 0; k0 < columns; k0 += 16) {
    const vectors = Math.min(4, (columns - k0) / 4);
    const step: number[] = [];
    for (let v = 0; v < vectors; v++) {
      const lo = FIRST_V128 + 2 * v;
      step.push(
        ...get(PTR), ...v128Load(4 * k0 + 16 * v), ...set(V),
        ...get(lo), ...get(V), ...simd(F64X2_PROMOTE_LOW_F32X4), ...simd(F64X2_ADD), ...set(lo),
        ...get(lo + 1), ...get(V), ...get(V), ...shuffle(HIGH_TO_LOW), ...simd(F64X2_PROMOTE_LOW_F32X4), ...simd(F64X2_ADD), ...set(lo + 1),
      );
    }
    for (let v = 0; v < 2 * vectors; v++) code.push(...zero, ...set(FIRST_V128 + v));
    code.push(
      ...get(X), ...set(PTR),
      ...get(X), ...get(NROWS), ...i32Const(rowBytes), i32Mul, i32Add, ...set(END),
      ...doWhile([...step, ...addTo(PTR, i32Const(rowBytes))], PTR, END),
    );
    for (let v = 0; v < vectors; v++) {
      const lo = FIRST_V128 + 2 * v;
      code.push(
        ...get(SUMS),
        ...get(lo), ...simd(F32X4_DEMOTE_F64X2_ZERO), ...get(lo + 1), ...simd(F32X4_DEMOTE_F64X2_ZERO), ...shuffle(LOWS_OF_BOTH),
        ...v128Store(4 * k0 + 16 * v),
      );
    }
  }
  return moduleBytes(3, 2, 9, code);
}

type BiasAdd = (a: number, bias: number, out: number, rows: number) => void;
type ColumnSum = (x: number, out: number, rows: number) => void;

/** out[r, :] = a[r, :] + bias for `rows` rows of `columns` floats (a multiple of 4); false where SIMD cannot run. */
export function simdBiasAdd(backend: BackendWasm, a: number, bias: number, out: number, rows: number, columns: number): boolean {
  if (columns % 4 !== 0 || columns === 0 || rows === 0) return false;
  const kernel = simdKernel<BiasAdd>(backend, `bias-add-${columns}`, () => biasAddModuleBytes(columns));
  if (!kernel) return false;
  kernel(a, bias, out, rows);
  return true;
}

/** out[k] = sum over rows of x[r, k] (float64 sums rounded once), for `columns` a multiple of 4; false where SIMD cannot run. */
export function simdColumnSums(backend: BackendWasm, x: number, out: number, rows: number, columns: number): boolean {
  if (columns % 4 !== 0 || columns === 0 || columns > SIMD_SUM_MAX_COLUMNS || rows === 0) return false;
  const kernel = simdKernel<ColumnSum>(backend, `column-sums-${columns}`, () => columnSumModuleBytes(columns));
  if (!kernel) return false;
  kernel(x, out, rows);
  return true;
}

export const ADD = 'Add';

/** wasm's Add with the SIMD form for a float32 [..., C] plus a [C] bias (either order); every other case goes to the backend's own kernel. */
export function addVia(original: tf.KernelFunc): tf.KernelFunc {
  const biasAdd: tf.KernelFunc = (args) => {
    const { a, b } = args.inputs;
    if (a === undefined || b === undefined || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const [x, bias] = isBiasOf(b, a) ? [a, b] : isBiasOf(a, b) ? [b, a] : [undefined, undefined];
    if (x === undefined || bias === undefined) return original(args);
    const backend = args.backend as BackendWasm;
    const columns = bias.shape[bias.shape.length - 1]!;
    const out = backend.makeOutput(x.shape, 'float32');
    // Views after the allocation: a growing heap detaches the earlier ones.
    const view = (t: tf.TensorInfo) => (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;
    if (simdBiasAdd(backend, view(x), view(bias), view(out), tf.util.sizeFromShape(x.shape) / columns, columns)) return out;
    backend.disposeData(out.dataId, true);
    return original(args);
  };
  return biasAdd;
}

/** Whether `bias` is [C] (or [1, ..., 1, C]) and `x` is [..., C] with at least one row and C a multiple of 4. */
function isBiasOf(bias: tf.TensorInfo, x: tf.TensorInfo): boolean {
  const c = bias.shape[bias.shape.length - 1];
  return c !== undefined && c > 0 && c % 4 === 0 && bias.shape.slice(0, -1).every((d) => d === 1) && bias.shape.length <= x.shape.length
    && x.shape[x.shape.length - 1] === c && tf.util.sizeFromShape(x.shape) > 0 && tf.util.sizeFromShape(x.shape) > c;
}
