// The SIMD kernels' multiply-add (src/train/wasm-simd.ts): relaxed SIMD's f32x4.relaxed_madd, turned
// on in Node 20's V8 at load, rounds once on a CPU with FMA; the fallback rounds the product, then
// the sum. Both forms are assembled here and run on values where the two roundings differ.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUSED_MULTIPLY_ADD, get, moduleBytes, multiplyAdd, set, v128Load, v128Store } from '../../src/train/wasm-simd.js';

/** f(a, b, c): c[0..3] = a * b + c, lane by lane, through multiplyAdd(fused). */
function run(fused: boolean, a: number[], b: number[], c: number[]): Float32Array {
  const [A, B, C, ACC] = [0, 1, 2, 3];
  const code = [
    ...get(C), ...v128Load(), ...set(ACC),
    ...multiplyAdd(ACC, [...get(A), ...v128Load()], [...get(B), ...v128Load()], fused),
    ...get(C), ...get(ACC), ...v128Store(),
  ];
  const bytes = moduleBytes(3, 0, 1, code);
  expect(WebAssembly.validate(bytes)).toBe(true);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const f = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.f as (a: number, b: number, c: number) => void;
  const v = new Float32Array(memory.buffer);
  v.set(a, 0);
  v.set(b, 4);
  v.set(c, 8);
  f(0, 16, 32);
  return v.slice(8, 12);
}

const u = 2 ** -23;
// (1 + u)(1 - u) = 1 - u^2: rounded to float32 it is 1, so the unfused sum with -1 is 0; fused, -u^2.
const a = [1 + u, 3, -2.5, 1 + u];
const b = [1 - u, 0.5, 4, 1 + u];
const c = [-1, 1, 10, -1];

describe('multiplyAdd in the SIMD kernels', () => {
  it('unfused: the product rounded to float32, then the sum', () => {
    const f = Math.fround;
    expect(Array.from(run(false, a, b, c))).toEqual(a.map((x, i) => f(f(f(x) * f(b[i]!)) + c[i]!)));
    expect(run(false, a, b, c)[0]).toBe(0);
  });

  it('is turned on here, and fused (one rounding) on a CPU with FMA', () => {
    expect(FUSED_MULTIPLY_ADD).toBe(process.env.HALLMARK_WASM_FMA !== '0');
    const out = Array.from(run(true, a, b, c));
    const cpuHasFma = /\bfma\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
    // Exact in float64 (24-bit by 24-bit products), then rounded once.
    const once = a.map((x, i) => Math.fround(Math.fround(x) * Math.fround(b[i]!) + c[i]!));
    if (cpuHasFma) expect(out).toEqual(once);
    expect(out[0] === -(u * u) || (!cpuHasFma && out[0] === 0)).toBe(true);
    expect(out.slice(1, 3)).toEqual([2.5, 0]); // exact either way
  });
});
