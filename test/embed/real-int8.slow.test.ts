// End to end on the real human-antispoof model (TF.js Graph, float16 weights, from npm): embed
// training-free as a user does, then quantize every float weight of the written model per tensor
// to int8 (symmetric, written back through the model's own writer) and verify: every bit must read
// back (the first bench:fidelity run lost 21% of them here).
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

const PASS = 'pw-real-int8';
let t: TestHome;
beforeAll(() => {
  t = makeHome();
});
afterAll(() => {
  t.home.close();
  rmSync(t.dir, { recursive: true, force: true });
});

describe('training-free mark through per-tensor int8 (real human-antispoof)', () => {
  it('every bit reads back after int8 quantization of all float weights', async () => {
    const out = join(t.dir, 'marked');
    const events: string[] = [];
    const s = await embedWatermark({
      ...t.base, model: join(REPO, 'fixtures/real/human-antispoof/antispoof.json'), out, scheme: 'weight', trainingFree: true, passphrase: PASS,
      calibration: { count: 32 }, onProgress: (e) => events.push(e.message),
    });
    expect(s.ok).toBe(true);
    console.log(JSON.stringify({ layer: s.weight!.layer, relativeChange: s.weight!.relativeChange, notes: events.filter((e) => /int8|margin/.test(e)) }));
    const key = (await loadMark({ dir: t.dir, ledger: t.home.ledger }, PASS, s.ledger.committed, homeTrust(t.home))).weight!;
    const written = (await readModelTensors(out)).tensors;
    const q = written.filter((x) => ['F32', 'F16'].includes(x.dtype) && x.shape.length >= 2)
      .map((x) => tensorFromFloat32(x.name, x.dtype as 'F32' | 'F16', x.shape, int8RoundTrip(tensorToFloat32(x))));
    const attacked = join(t.dir, 'int8');
    await writeModelTensors(out, attacked, q);
    const r = verifyWeightMark((await readModelTensors(attacked)).tensors, key);
    expect(r.best.tensor).toBe(s.weight!.layer);
    expect(r.best.ber).toBe(0);
    expect(r.log10CorrectedPValue).toBeLessThan(-6);
  });
});
