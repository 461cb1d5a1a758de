/**
 * MaxPoolGrad's common case (a 2x2 stride-2 pool tiling its input, channels a multiple of 4) as
 * WebAssembly SIMD in the wasm backend's own heap (the assembler: wasm-simd.ts).
 *
 * Why: the JavaScript loop's data-dependent branches (which of the 4 values is the first maximum)
 * mispredict on real activations; it ran at about 4.7 ms for the fixture's first pool at batch 64
 * on random activations against 2.3 ms on predictable ones. Here 4 channels are decided at once
 * with compare masks and bit selects, and no branch depends on the data.
 *
 * The semantics are the JavaScript path's, which are the cpu backend's: starting from -Infinity,
 * each value in row-major order that is strictly greater than the best so far becomes the best; the
 * last to do so receives dy, the others +0. A NaN never compares greater, so a window of only NaN
 * or -Infinity receives nothing. The results are the JavaScript path's to the bit.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addTo, doWhile, get, i32Const, moduleBytes, OP, set, simd, SIMD_OP, simdKernel, tee, v128Load, v128Store } from './wasm-simd.js';

/** (x, dy, dx byte addresses, output rows over the batch, output width, channels) */
export type PoolGrad2x2 = (x: number, dy: number, dx: number, rows: number, outWidth: number, channels: number) => void;

// Locals: the 6 parameters, then 9 i32 and 10 v128 locals.
const [X, DY, DX, ROWS, OW, C] = [0, 1, 2, 3, 4, 5];
const [RIGHT, DOWN, OFF, Q, Q_END_ROW, Q_END_WIN, Q_END, AX, DXA] = [6, 7, 8, 9, 10, 11, 12, 13, 14];
const [A, B, CC, D, BEST, GA, GB, GC, GD, G] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24];

function body(): number[] {
  const { i32Add, i32Mul, i32Shl } = OP;
  const negInf = Array.from(new Uint8Array(new Float32Array([-Infinity, -Infinity, -Infinity, -Infinity]).buffer));
  // best = -Inf; for v in (a, b, c): g_v = v > best; best = g_v ? v : best. Then g_d = d > best.
  // bitselect(v1, v2, c) = (v1 & c) | (v2 & ~c) takes v1, v2, c from the stack in that order.
  const stepSelect = (v: number, g: number) => [
    ...get(v), ...get(BEST), ...get(v), ...get(BEST), ...simd(SIMD_OP.f32x4Gt), ...tee(g), ...simd(SIMD_OP.v128Bitselect), ...set(BEST),
  ];
  const stepLast = (v: number, g: number) => [...get(v), ...get(BEST), ...simd(SIMD_OP.f32x4Gt), ...set(g)];
  // The window's winner is the last value that raised the best: its mask and not any later one's.
  const andnot = (a: number[], b: number) => [...a, ...get(b), ...simd(SIMD_OP.v128AndNot)];
  const storeMasked = (address: number[], mask: number[]) => [...address, ...get(G), ...mask, ...simd(SIMD_OP.v128And), ...v128Store()];
  const channel = [
    ...get(X), ...get(OFF), i32Add, ...set(AX),
    ...get(DX), ...get(OFF), i32Add, ...set(DXA),
    ...get(AX), ...v128Load(), ...set(A),
    ...get(AX), ...get(RIGHT), i32Add, ...v128Load(), ...set(B),
    ...get(AX), ...get(DOWN), i32Add, ...v128Load(), ...set(CC),
    ...get(AX), ...get(DOWN), i32Add, ...get(RIGHT), i32Add, ...v128Load(), ...set(D),
    ...simd(SIMD_OP.v128Const), ...negInf, ...set(BEST),
    ...stepSelect(A, GA), ...stepSelect(B, GB), ...stepSelect(CC, GC), ...stepLast(D, GD),
    ...get(Q), ...v128Load(), ...set(G),
    ...storeMasked(get(DXA), andnot(andnot(andnot(get(GA), GB), GC), GD)),
    ...storeMasked([...get(DXA), ...get(RIGHT), i32Add], andnot(andnot(get(GB), GC), GD)),
    ...storeMasked([...get(DXA), ...get(DOWN), i32Add], andnot(get(GC), GD)),
    ...storeMasked([...get(DXA), ...get(DOWN), i32Add, ...get(RIGHT), i32Add], get(GD)),
    ...addTo(OFF, i32Const(16)), ...addTo(Q, i32Const(16)),
  ];
  return [
    ...get(C), ...i32Const(2), i32Shl, ...set(RIGHT),
    ...get(OW), ...get(RIGHT), i32Mul, ...i32Const(1), i32Shl, ...set(DOWN),
    ...get(DY), ...set(Q),
    ...get(ROWS), ...get(OW), i32Mul, ...get(RIGHT), i32Mul, ...get(DY), i32Add, ...set(Q_END),
    ...doWhile([
      ...get(Q), ...get(OW), ...get(RIGHT), i32Mul, i32Add, ...set(Q_END_ROW),
      ...doWhile([
        ...get(Q), ...get(RIGHT), i32Add, ...set(Q_END_WIN),
        ...doWhile(channel, Q, Q_END_WIN),
        ...addTo(OFF, get(RIGHT)), // skip the window's right column
      ], Q, Q_END_ROW),
      ...addTo(OFF, get(DOWN)), // skip the windows' second row
    ], Q, Q_END),
  ];
}

/** The module's bytes: imports env.memory, exports `f` (PoolGrad2x2). */
export function poolGradModuleBytes(): Uint8Array {
  return moduleBytes(6, 9, 10, body());
}

/** The SIMD function over this backend's heap, or undefined where it cannot run (see simdKernel). */
export function simdPoolGrad2x2(backend: BackendWasm): PoolGrad2x2 | undefined {
  return simdKernel<PoolGrad2x2>(backend, 'max-pool-grad-2x2', poolGradModuleBytes);
}
