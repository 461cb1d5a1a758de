import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, tensorFromFloat32, tensorToFloat32, checkTensor,
} from '../../src/formats/tensor.js';

describe('half precision', () => {
  it('every finite F16 bit pattern survives F16 -> F32 -> F16 (exhaustive)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      if (Number.isNaN(v)) expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(v)))).toBe(true);
      else expect(f32ToF16Bits(v)).toBe(h);
    }
  });

  it('known values from IEEE 754 binary16', () => {
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // rounds to infinity
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('F32 -> F16 picks the nearest representable value (vs. a brute-force neighbour check)', () => {
    fc.assert(
      fc.property(fc.float({ min: -60000, max: 60000, noNaN: true }), (x) => {
        const h = f32ToF16Bits(x);
        const v = f16BitsToF32(h);
        const err = Math.abs(v - Math.fround(x));
        for (const n of [h - 1, h + 1]) {
          if ((n & 0x7fff) > 0x7bff || n < 0) continue;
          expect(err).toBeLessThanOrEqual(Math.abs(f16BitsToF32(n) - Math.fround(x)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('BF16 is the top half of F32, rounded to nearest even', () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    fc.assert(
      fc.property(fc.float({ noNaN: true, min: Math.fround(-3.38e38), max: Math.fround(3.38e38) }), (x) => {
        const b = f32ToBf16Bits(x);
        const err = Math.abs(bf16BitsToF32(b) - x);
        for (const n of [(b + 1) & 0xffff, (b - 1) & 0xffff]) {
          const v = bf16BitsToF32(n);
          if (!Number.isNaN(v)) expect(err).toBeLessThanOrEqual(Math.abs(v - x));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('tensorFromFloat32/tensorToFloat32 round trip per dtype', () => {
    const vals = new Float32Array([0, 1, -2.5, 0.333251953125]);
    for (const dt of ['F32', 'F64', 'F16', 'BF16'] as const) {
      const t = tensorFromFloat32('x', dt, [2, 2], vals);
      checkTensor(t);
      const back = tensorToFloat32(t);
      expect(Array.from(back.slice(0, 3))).toEqual([0, 1, -2.5]);
    }
  });
});
