import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertKernelLayout, extractBits, generateProjection, meanOverOutputChannels } from '../../src/core/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors, writeSafetensorsFile, type NamedTensor } from '../../src/formats/index.js';
import { VerifyError } from '../../src/verify/errors.js';
import { findWeightCandidates, verifyWeightMark } from '../../src/verify/white-box.js';
import { FIXTURE, keysFor, markTensor, naiveUpperTail } from './helpers.js';

describe('white-box verification', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-wb-'));
  let fixture: NamedTensor[];
  const dense = keysFor(7, 'model:dense', 256);
  const conv = keysFor(7, 'model:conv', 64);
  let marked: NamedTensor[];
  let denseKey: ReturnType<typeof markTensor>['key'];
  let convKey: ReturnType<typeof markTensor>['key'];

  beforeAll(async () => {
    fixture = (await readModelTensors(FIXTURE)).tensors;
    const a = markTensor(fixture, 'dense1/kernel', 'IO', dense);
    const b = markTensor(a.tensors, 'conv2/kernel', 'HWIO', conv);
    marked = b.tensors;
    denseKey = a.key;
    convKey = b.key;
    await writeModelTensors(FIXTURE, join(dir, 'tfjs'), marked);
    writeFileSync(join(dir, 'marked.onnx'), await convertTfjsToOnnx(join(dir, 'tfjs')));
  });

  it('reads every bit from the TF.js file and from its ONNX conversion (conv OIHW), p-value exact', async () => {
    for (const path of [join(dir, 'tfjs'), join(dir, 'marked.onnx')]) {
      const { tensors } = await readModelTensors(path);
      const d = verifyWeightMark(tensors, denseKey);
      expect(d.best).toMatchObject({ tensor: 'dense1/kernel', layout: 'IO', matches: 256, ber: 0 });
      expect(d.best.pValue / 2 ** -256).toBeCloseTo(1, 12);
      // [1568, 64] is a candidate as IO only; nothing else has 1568 features.
      expect(d.candidates).toBe(1);
      const c = verifyWeightMark(tensors, convKey);
      expect(c.best).toMatchObject({ tensor: 'conv2/kernel', matches: 64, ber: 0 });
      expect(c.best.layout).toBe(path.endsWith('.onnx') ? 'OIHW' : 'HWIO');
      expect(c.correctedPValue / (c.candidates * 2 ** -64)).toBeCloseTo(1, 12);
    }
  });

  it('finds the mark renamed, output channels permuted and transposed to OI in a safetensors file', async () => {
    const k = marked.find((t) => t.name === 'dense1/kernel')!;
    const [inF, outF] = k.shape as [number, number];
    const perm = Array.from({ length: outF }, (_, i) => (i * 37) % outF); // 37 is coprime with 64
    const src = tensorToFloat32(k);
    const permuted = new Float32Array(src.length);
    for (let f = 0; f < inF; f++) for (let o = 0; o < outF; o++) permuted[f * outF + o] = src[f * outF + perm[o]!]!;
    const oi = convertKernelLayout(permuted, k.shape, 'IO', 'OI');
    const thief = [
      ...fixture.filter((t) => !t.name.startsWith('dense1/')).map((t, i) => ({ ...t, name: `layer_${i}` })),
      tensorFromFloat32('fc.weight', 'F16', oi.shape, oi.data), // half precision too
    ];
    const path = join(dir, 'thief.safetensors');
    await writeSafetensorsFile(path, thief);
    const r = verifyWeightMark((await readModelTensors(path)).tensors, denseKey);
    expect(r.best).toMatchObject({ tensor: 'fc.weight', layout: 'OI', matches: 256 });
  });

  it('p-values agree with a naive exact BigInt binomial tail, and Bonferroni multiplies by the candidates', () => {
    // The unmarked fixture: its dense1 kernel reads about half the bits.
    const r = verifyWeightMark(fixture, denseKey);
    expect(r.best.pValue).toBeCloseTo(naiveUpperTail(r.best.matches, 256), 12);
    expect(r.best.matches).toBeLessThan(160);
    // conv2 (144 features) matched by conv2 only; a square tensor adds two candidates (IO, OI).
    const square = tensorFromFloat32('sq', 'F32', [144, 144], new Float32Array(144 * 144).map((_, i) => Math.sin(i)));
    const c = verifyWeightMark([...fixture, square], convKey);
    expect(c.candidates).toBe(3);
    expect(c.correctedPValue).toBeCloseTo(Math.min(1, 3 * naiveUpperTail(c.best.matches, 64)), 12);
  });

  it('a mark read with another owner key or on an unmarked model is not significant', () => {
    const other = keysFor(8, 'model:dense', 256);
    const r = verifyWeightMark(marked, { ...denseKey, bits: other.bits, projectionSeed: other.projectionSeed });
    expect(r.correctedPValue).toBeGreaterThan(1e-6);
  });

  it('extraction does not depend on the order of output channels (property)', () => {
    const x = generateProjection(new Uint8Array(32).fill(3), 32, 12);
    fc.assert(
      fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 12 * 5, maxLength: 12 * 5 }), fc.integer({ min: 1, max: 4 }), (vals, shift) => {
        const k = Float32Array.from(vals);
        const rolled = new Float32Array(k.length);
        for (let f = 0; f < 12; f++) for (let o = 0; o < 5; o++) rolled[f * 5 + o] = k[f * 5 + ((o + shift) % 5)]!;
        const a = extractBits(x, meanOverOutputChannels(k, [12, 5], 'IO'));
        const b = extractBits(x, meanOverOutputChannels(rolled, [12, 5], 'IO'));
        // Sums in another order can differ in the last ulp; a bit flips only at a zero projection.
        return a.every((v, i) => v === b[i]);
      }),
      { numRuns: 50 },
    );
  });

  it('says so when no tensor can hold the mark', () => {
    expect(findWeightCandidates(fixture, 999)).toEqual([]);
    expect(() => verifyWeightMark(fixture, { ...denseKey, features: 999 })).toThrow(VerifyError);
    try {
      verifyWeightMark(fixture, { ...denseKey, features: 999 });
    } catch (e) {
      expect((e as VerifyError).code).toBe('VERIFY_NO_CANDIDATE');
    }
  });
});
