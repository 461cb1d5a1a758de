// The shared memory a training team keeps between fits: reused for the same layout with its control
// array zeroed, replaced for another layout, and not kept at all when it is large.
import { describe, expect, it } from 'vitest';
import type { SharedLayout } from '../../src/train/parallel-layout.js';
import { KEEP_SHARED_BYTES, teamBuffers, type Team } from '../../src/train/worker-pool.js';

const layout = (sampleSize: number, batchSize = 64): SharedLayout => ({
  workers: 2, batchSize, extraCapacity: batchSize, numClasses: 10, sampleSize, weightSizes: [144, 16, 100], optimizerRows: 0,
});

describe('teamBuffers', () => {
  it('reuses a small layout\'s memory with a zeroed control array, and replaces it for another layout', () => {
    const team: Team = { key: 'wasm/2', workers: [] };
    const a = teamBuffers(team, layout(784));
    new Int32Array(a.control).fill(7);
    new Float32Array(a.weights).fill(3);
    const b = teamBuffers(team, layout(784));
    expect(b).toBe(a);
    expect(Array.from(new Int32Array(b.control))).toEqual(new Array(new Int32Array(b.control).length).fill(0));
    const c = teamBuffers(team, layout(784, 32));
    expect(c).not.toBe(a);
    expect(teamBuffers(team, layout(784, 32))).toBe(c);
  });

  it('does not keep memory over the limit for the next fit', () => {
    const team: Team = { key: 'wasm/2', workers: [] };
    const big = layout(224 * 224 * 3, 128);
    const first = teamBuffers(team, big);
    expect(first.images.byteLength).toBeGreaterThan(KEEP_SHARED_BYTES);
    expect(team.shared).toBeUndefined();
    expect(teamBuffers(team, big)).not.toBe(first);
  });
});
