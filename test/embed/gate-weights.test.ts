// The spread of a recurrent weight's mark over its gates (src/embed/gate-weights.ts): shares in
// inverse proportion to the square of each gate's measured effect, rows within a gate by their own
// scale, the mean over rows (what the mark reads) moved by exactly the mark's change.
import { describe, expect, it } from 'vitest';
import { meanOverOutputChannels } from '../../src/core/index.js';
import { spreadOverGates } from '../../src/embed/gate-weights.js';

const ROWS = 8;
const COLS = 3;
const kernel = Float32Array.from({ length: ROWS * COLS }, (_, i) => Math.cos(i * 0.7) * (1 + (Math.floor(i / COLS) % 2)));
const delta = Float64Array.from([0.01, -0.02, 0.005]);

/** The effect of a kernel: which gate (block of 2 rows) carries the change, times that gate's sensitivity. */
function effectOf(sensitivity: number[]) {
  const seen: number[] = [];
  const measure = async (k: Float32Array) => {
    let e = 0;
    for (let r = 0; r < ROWS; r++) {
      let d = 0;
      for (let c = 0; c < COLS; c++) d += Math.abs(k[r * COLS + c]! - kernel[r * COLS + c]!);
      e += d * sensitivity[Math.floor(r / 2)]!;
    }
    seen.push(e);
    return e;
  };
  return { measure, seen };
}

describe('spreading a mark over the gates of a recurrent weight', () => {
  it('gives each gate a share in inverse proportion to the square of its effect', async () => {
    const { measure, seen } = effectOf([1, 2, 4, 1]);
    const s = (await spreadOverGates(kernel, [ROWS, COLS], 'OI', 4, delta, measure))!;
    expect(seen).toHaveLength(4); // one trial per gate
    const inv = s.effects.map((e) => 1 / e ** 2);
    const total = inv.reduce((a, b) => a + b, 0);
    s.shares.forEach((v, i) => expect(v).toBeCloseTo((4 * inv[i]!) / total, 12));
    expect(s.shares[2]).toBeLessThan(s.shares[1]!); // the most sensitive gate takes the least
    expect(s.shares[1]).toBeLessThan(s.shares[0]!);
    expect(s.shares[0]).toBeCloseTo(s.shares[3]!, 5); // equal sensitivities (float32 kernel: not to the last bit)
  });

  it('keeps the mean over rows: the mark reads the same change', async () => {
    const s = (await spreadOverGates(kernel, [ROWS, COLS], 'OI', 4, delta, effectOf([1, 3, 2, 5]).measure))!;
    const mean = s.channelWeights.reduce((a, b) => a + b, 0) / ROWS;
    expect(mean).toBeCloseTo(1, 12);
    for (let g = 0; g < 4; g++) expect((s.channelWeights[2 * g]! + s.channelWeights[2 * g + 1]!) / 2).toBeCloseTo(s.shares[g]!, 12);
    const marked = Float32Array.from(kernel, (v, i) => v + delta[i % COLS]! * s.channelWeights[Math.floor(i / COLS)]!);
    const before = meanOverOutputChannels(kernel, [ROWS, COLS], 'OI');
    const after = meanOverOutputChannels(marked, [ROWS, COLS], 'OI');
    for (let c = 0; c < COLS; c++) expect(after[c]! - before[c]!).toBeCloseTo(delta[c]!, 6);
  });

  it('declines when a gate moves nothing (unmeasured, not harmless) or the rows do not split into gates', async () => {
    expect(await spreadOverGates(kernel, [ROWS, COLS], 'OI', 4, delta, effectOf([1, 0, 2, 1]).measure)).toBeUndefined();
    expect(await spreadOverGates(kernel, [ROWS, COLS], 'OI', 3, delta, effectOf([1, 1, 1, 1]).measure)).toBeUndefined();
    expect(await spreadOverGates(kernel, [ROWS, COLS], 'OI', 1, delta, effectOf([1, 1, 1, 1]).measure)).toBeUndefined();
  });
});
