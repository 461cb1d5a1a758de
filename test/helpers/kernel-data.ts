// Seeded inputs and case shapes shared by the wasm kernel tests (test/train/).
import fc from 'fast-check';

export type Pad = 'same' | 'valid' | number;

/** A convolution case: input [B, H, W, Cin], kernel [KH, KW], output channels, strides, padding. */
export interface ConvCase {
  x: [number, number, number, number];
  k: [number, number];
  cout: number;
  strides: [number, number];
  pad: Pad;
}

/** n seeded values in [-1, 1), or with `integers` in 0..3 (ties in max pooling, where the first maximum must win). */
export function uniform(n: number, seed: number, integers = false): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    out[i] = integers ? Math.floor((s / 2 ** 32) * 4) : (s / 2 ** 32 - 0.5) * 2;
  }
  return out;
}

/**
 * Random convolution cases (with a seed): batch 1-3, sides 1-`maxSide`, input channels from
 * `cin`, output channels from `cout`, kernels 1-4, strides 1-3, every padding. Numeric padding
 * comes with square kernels and strides only: tfjs-core sizes it from the kernel's and stride's
 * heights (conv_util getPadAndOutInfo), which sends forward Conv2D out of bounds on wasm.
 */
export function randomConvCases(cin: fc.Arbitrary<number>, cout: fc.Arbitrary<number>, maxSide: number): fc.Arbitrary<{ c: ConvCase; seed: number }> {
  return fc.record({
    b: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: maxSide }), w: fc.integer({ min: 1, max: maxSide }), cin, cout,
    kh: fc.integer({ min: 1, max: 4 }), kw: fc.integer({ min: 1, max: 4 }), sh: fc.integer({ min: 1, max: 3 }), sw: fc.integer({ min: 1, max: 3 }),
    pad: fc.constantFrom<Pad>('same', 'valid', 0, 1), seed: fc.integer({ min: 0, max: 1000 }),
  }).map((r) => {
    const square = typeof r.pad === 'number';
    const c: ConvCase = { x: [r.b, r.h, r.w, r.cin], k: [r.kh, square ? r.kh : r.kw], cout: r.cout, strides: [r.sh, square ? r.sh : r.sw], pad: r.pad };
    return { c, seed: r.seed };
  }).filter(({ c }) => (c.pad === 'valid' ? c.k[0] <= c.x[1] && c.k[1] <= c.x[2] : typeof c.pad !== 'number' || (c.k[0] <= c.x[1] + 2 * c.pad && c.k[0] <= c.x[2] + 2 * c.pad)));
}
