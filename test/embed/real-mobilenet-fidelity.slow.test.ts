// The training-free mark on a real MobileNetV2 classifier (nsfwjs, TF.js Layers, uint8 weights;
// fixtures/real/README.md) as a user runs it: defaults, key-derived synthetic calibration inputs.
// Fidelity first: the targets on real vision models are top-1 agreement >= 99.9% and a
// largest probability change <= 0.01; the mark must verify from the written file (stored as uint8
// again) and after per-tensor int8 quantization of every float weight.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedWatermark } from '../../src/embed/index.js';
import { int8RoundTrip } from '../../src/embed/int8-steps.js';
import { readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors } from '../../src/formats/index.js';
import { homeTrust } from '../../src/home/index.js';
import { loadMark } from '../../src/verify/mark-secrets.js';
import { verifyWeightMark } from '../../src/verify/white-box.js';
import { REPO } from '../helpers/paths.js';
import { makeHome, type TestHome } from './helpers.js';

const PASS = 'pw-real-mobilenet';
let t: TestHome;
beforeAll(() => {
  t = makeHome();
});
afterAll(() => {
  t.home.close();
  rmSync(t.dir, { recursive: true, force: true });
});

describe('training-free mark on a real MobileNetV2 (nsfwjs, uint8 Layers)', () => {
  it('leaves its answers alone (top-1 100%, max change <= 0.01 on 64 inputs), skips depthwise kernels, and verifies after int8', async () => {
    const out = join(t.dir, 'marked');
    const s = await embedWatermark({
      ...t.base, model: join(REPO, 'fixtures/real/nsfwjs-mobilenet-v2/model.json'), out, scheme: 'weight', trainingFree: true, passphrase: PASS,
      calibration: { count: 64 }, limits: { minTop1Agreement: 0.999, maxAbsChange: 0.01 },
    });
    expect(s.ok).toBe(true);
    const w = s.weight!;
    console.log(JSON.stringify({ layer: w.layer, shape: w.shape, bits: w.bits, relativeChange: w.relativeChange, fidelity: s.fidelity }));
    expect(w.layer).not.toMatch(/depthwise/i);
    expect(w.reason).toMatch(/depthwise or one-input-channel kernels skipped/);
    expect(w.bitErrors).toBe(0);
    expect(s.fidelity!.inputs).toBe(64);
    expect(s.fidelity!.top1Agreement).toBe(1);
    expect(s.fidelity!.maxAbsChange).toBeLessThanOrEqual(0.01);
    const key = (await loadMark({ dir: t.dir, ledger: t.home.ledger }, PASS, s.ledger.committed, homeTrust(t.home))).weight!;
    const written = (await readModelTensors(out)).tensors;
    expect(verifyWeightMark(written, key).log10CorrectedPValue).toBeLessThan(-6);
    const q = written.filter((x) => x.dtype === 'F32' && x.shape.length >= 2).map((x) => tensorFromFloat32(x.name, 'F32', x.shape, int8RoundTrip(tensorToFloat32(x))));
    const attacked = join(t.dir, 'int8');
    await writeModelTensors(out, attacked, q);
    const r = verifyWeightMark((await readModelTensors(attacked)).tensors, key);
    expect(r.best.tensor).toBe(w.layer);
    expect(r.log10CorrectedPValue).toBeLessThan(-6);
  }, 600_000);
});
