// The training-free margin survives the file's own storage: face-api's real uint8-quantized
// weights (fixtures/real/faceapi-expression) lost 13% of the bits when the marked tensor was
// quantized back to uint8; with the storage simulated while planning, none are lost.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedWatermark, type EmbedSummary } from '../../src/embed/index.js';
import { marginThatSurvivesStorage, storedRoundTrip } from '../../src/embed/stored-margin.js';
import { readModelTensors, tensorToFloat32 } from '../../src/formats/index.js';
import { REPO } from '../helpers/paths.js';
import { makeHome, type TestHome } from './helpers.js';

const PASS = 'pw-stored-margin';
const FACEAPI = join(REPO, 'fixtures/real/faceapi-expression/face_expression_model-weights_manifest.json');
let t: TestHome;
let s: EmbedSummary;
const events: string[] = [];

beforeAll(async () => {
  t = makeHome();
  s = await embedWatermark({ ...t.base, passphrase: PASS, model: FACEAPI, out: join(t.dir, 'marked'), scheme: 'weight', trainingFree: true, onProgress: (e) => e.message && events.push(e.message) });
}, 300_000);
afterAll(() => {
  t.home.close();
  rmSync(t.dir, { recursive: true, force: true });
});

describe('the margin models the file\'s own quantization', () => {
  it('marks real uint8 face-api weights with no bit lost on the uint8 write, and says it raised the margin', async () => {
    expect(s.weight!.bitErrors).toBe(0);
    expect(s.ok).toBe(true);
    // The written file really is uint8: re-reading gives values on the quantization grid.
    const { roundTrip } = await storedRoundTrip(FACEAPI, true, (await readModelTensors(FACEAPI)).tensors.find((x) => x.name === s.weight!.layer)!);
    const written = tensorToFloat32((await readModelTensors(join(t.dir, 'marked'))).tensors.find((x) => x.name === s.weight!.layer)!);
    expect(roundTrip(written)).toEqual(written);
    const raised = events.find((m) => m.includes('survives the file'));
    if (raised) expect(raised).toMatch(/uint8/);
  });

  it('raises the margin only while the stored values lose bits', () => {
    const lost = [5, 2, 0];
    const seen: number[] = [];
    const r = marginThatSurvivesStorage(1, (m) => (seen.push(m), { kernel: new Float32Array(1) }), () => lost[seen.length - 1]!);
    expect(seen).toEqual([1, 1.5, 2.25]);
    expect(r).toMatchObject({ margin: 2.25, errors: 0, initialErrors: 5, steps: 2 });
    const none = marginThatSurvivesStorage(3, () => ({ kernel: new Float32Array(1) }), () => 0);
    expect(none).toMatchObject({ margin: 3, steps: 0 });
  });
});
