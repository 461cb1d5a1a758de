/**
 * A dense layer's two gradients as WebAssembly SIMD in the wasm backend's heap (the assembler:
 * wasm-simd.ts), reading both operands where they are, with no transposed copy:
 *
 * - A^T B (the weights' gradient x^T dy; x [K, M], dy [K, N]): tiles of 8 rows x 4 columns of the
 *   result. Four consecutive values of a row of A are one vector load and each value of B is
 *   splat across a vector: eight vector sums per tile, transposed 4x4 by shuffles on the way out.
 * - A B^T (the input's gradient dy W^T; dy [M, K], W [N, K]): tiles of 2 x 4 dot products whose
 *   operands are contiguous rows; each row of 4 results is reduced from its 4 vector sums by a 4x4
 *   transpose and three adds.
 *
 * XNNPACK runs only the untransposed product, so the backend's path first transposes an operand
 * (wasm-batch-matmul.ts); these do not. They sum k in order, as XNNPACK does for these shapes
 * (unfused, the same bits on every shape probed; fused, see wasm-simd.ts, each product is not
 * rounded before its add), so results agree with the cpu backend's to float32 rounding. Shapes the tiles do not cover
 * keep the other path.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addTo, doWhile, doWhileBelow, get, i32Const, moduleBytes, OP, set, simd, SIMD_OP, simdKernel, v128Load, v128Load32Splat, v128Store, multiplyAdd } from './wasm-simd.js';

const SHUFFLE = 0x0d;
const lanes = (l: number[]) => l.flatMap((k) => [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3]);
const UNPACK_LO = lanes([0, 4, 1, 5]);
const UNPACK_HI = lanes([2, 6, 3, 7]);
const LOW_HALVES = lanes([0, 1, 4, 5]);
const HIGH_HALVES = lanes([2, 3, 6, 7]);
const shuffle = (a: number, b: number, l: number[]) => [...get(a), ...get(b), ...simd(SHUFFLE), ...l];
const ZERO = [...simd(SIMD_OP.v128Const), ...new Array<number>(16).fill(0)];

/** Transposes the vectors in locals r[0..3] into t[0..3] (t[i] = (r0[i], r1[i], r2[i], r3[i])), through the locals s[0..3]. */
function transpose4(r: readonly number[], s: readonly number[], t: readonly number[]): number[] {
  return [
    ...shuffle(r[0]!, r[1]!, UNPACK_LO), ...set(s[0]!),
    ...shuffle(r[2]!, r[3]!, UNPACK_LO), ...set(s[1]!),
    ...shuffle(r[0]!, r[1]!, UNPACK_HI), ...set(s[2]!),
    ...shuffle(r[2]!, r[3]!, UNPACK_HI), ...set(s[3]!),
    ...shuffle(s[0]!, s[1]!, LOW_HALVES), ...set(t[0]!),
    ...shuffle(s[0]!, s[1]!, HIGH_HALVES), ...set(t[1]!),
    ...shuffle(s[2]!, s[3]!, LOW_HALVES), ...set(t[2]!),
    ...shuffle(s[2]!, s[3]!, HIGH_HALVES), ...set(t[3]!),
  ];
}

/** acc += (the vector `x` leaves) * (the vector `y` leaves). */
const accumulate = multiplyAdd;

// f(a, b, c) with the shapes baked in; then these i32 locals, then v128 locals.
const [A, B, C, I, J, PA, PB, END, CP] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const V = 9;

/**
 * How B is laid out: the byte step between consecutive k (its reduced axis) and between
 * consecutive n (the result's columns), and which loop is the outer one.
 */
interface Layout {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly bK: number;
  readonly bN: number;
  /** Tiles of one group of 4 columns for every group of 8 rows (B's rows read once), or the other way round. */
  readonly columnsOuter: boolean;
}

/**
 * C [M, N] = At^T op(B) for At [K, M] (row-major: the k-th row holds A's column k), as tiles of
 * 8 rows x 4 columns of C: per k, two vector loads of At and four splats of B, into eight vector
 * sums that hold C's tile column by column, transposed 4x4 on the way out.
 */
function outerProductModuleBytes(l: Layout): Uint8Array {
  const { i32Add, i32Mul } = OP;
  const { m, n, k, bK, bN } = l;
  // v128 locals: AV[h] (rows 4h..4h+3 of the tile, this step), BV (a splat of B), ACC[h][j], S0..3, T0..3
  const AV = [V, V + 1];
  const BV = V + 2;
  const ACC = [0, 1].map((h) => [0, 1, 2, 3].map((j) => V + 3 + 4 * h + j));
  const S = [V + 11, V + 12, V + 13, V + 14];
  const T = [V + 15, V + 16, V + 17, V + 18];
  const rowBytes = n * 4;
  const step = [
    ...get(PA), ...v128Load(), ...set(AV[0]!),
    ...get(PA), ...v128Load(16), ...set(AV[1]!),
    ...[0, 1, 2, 3].flatMap((j) => [...get(PB), ...v128Load32Splat(j * bN), ...set(BV), ...[0, 1].flatMap((h) => accumulate(ACC[h]![j]!, get(AV[h]!), get(BV)))]),
    ...addTo(PA, i32Const(m * 4)), ...addTo(PB, i32Const(bK)),
  ];
  // ACC[h][j] holds C[I + 4h + r, J + j] in lane r: transposed, row r of a 4 x 4 block.
  const storeBlock = (h: number) => [
    ...transpose4(ACC[h]!, S, T),
    ...T.flatMap((t, r) => [...get(CP), ...get(t), ...v128Store((4 * h + r) * rowBytes)]),
  ];
  // I: the tile's first row of C (a multiple of 8); J: its first column (a multiple of 4).
  const tile = [
    ...ACC.flat().flatMap((acc) => [...ZERO, ...set(acc)]),
    ...get(A), ...get(I), ...i32Const(4), i32Mul, i32Add, ...set(PA),
    ...get(B), ...get(J), ...i32Const(bN), i32Mul, i32Add, ...set(PB),
    ...get(PA), ...i32Const(k * m * 4), i32Add, ...set(END),
    ...doWhile(step, PA, END),
    ...get(C), ...get(I), ...i32Const(n), i32Mul, ...get(J), i32Add, ...i32Const(4), i32Mul, i32Add, ...set(CP),
    ...storeBlock(0), ...storeBlock(1),
  ];
  const [outer, outerStep, outerEnd, inner, innerStep, innerEnd] = l.columnsOuter ? [J, 4, n, I, 8, m] : [I, 8, m, J, 4, n];
  const body = doWhileBelow([
    ...i32Const(0), ...set(inner),
    ...doWhileBelow([...tile, ...addTo(inner, i32Const(innerStep))], inner, innerEnd),
    ...addTo(outer, i32Const(outerStep)),
  ], outer, outerEnd);
  return moduleBytes(3, 6, 19, body);
}

/** C [M, N] = A^T B for A [K, M], B [K, N] (row-major); M % 8 == 0, N % 4 == 0, K >= 1. */
export function matmulAtBModuleBytes(m: number, n: number, k: number): Uint8Array {
  return outerProductModuleBytes({ m, n, k, bK: n * 4, bN: 4, columnsOuter: false });
}

/** C [M, N] = At^T B^T for At [K, M] (A transposed), B [N, K] (row-major); M % 8 == 0, N % 4 == 0, K >= 1. */
export function matmulAtBtModuleBytes(m: number, n: number, k: number): Uint8Array {
  return outerProductModuleBytes({ m, n, k, bK: 4, bN: k * 4, columnsOuter: true });
}

type MatMul = (a: number, b: number, c: number) => void;

const fits = (m: number, n: number, k: number) => m % 8 === 0 && n % 4 === 0 && m > 0 && n > 0 && k > 0;

/** Runs the module `name` for these shapes at these heap byte addresses; false where the tiles do not fit or SIMD cannot run. */
function runTiles(backend: BackendWasm, name: string, build: typeof matmulAtBModuleBytes, a: number, b: number, c: number, m: number, n: number, k: number): boolean {
  if (!fits(m, n, k)) return false;
  const kernel = simdKernel<MatMul>(backend, `${name}-${m}-${n}-${k}`, () => build(m, n, k));
  if (!kernel) return false;
  kernel(a, b, c);
  return true;
}

/** C = A^T B (A [K, M], B [K, N]) in SIMD at these heap byte addresses; false where the tiles do not fit or SIMD cannot run. */
export const simdMatMulAtB = (backend: BackendWasm, a: number, b: number, c: number, m: number, n: number, k: number): boolean =>
  runTiles(backend, 'matmul-atb', matmulAtBModuleBytes, a, b, c, m, n, k);

/** C = A B^T given At = A^T [K, M] and B [N, K], in SIMD at these heap byte addresses; false where the tiles do not fit or SIMD cannot run. */
export const simdMatMulAtBt = (backend: BackendWasm, at: number, b: number, c: number, m: number, n: number, k: number): boolean =>
  runTiles(backend, 'matmul-atbt', matmulAtBtModuleBytes, at, b, c, m, n, k);
