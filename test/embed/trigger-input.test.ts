// Trigger images fed as the model's training images were: a model trained on normalised pixels
// (Keras MobileNet's -1..1, ImageNet mean/std) gets its triggers through the same map, committed
// with the mark (parameters.trigger.input), so verification, calibration and endpoint queries feed
// the values the model learned. Checked against the dataset loader's own pixel map (a second
// path), through a real fine-tuning run on real MNIST digits written as PNG class folders.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOpening, generateTriggerImages, isIdentityTriggerInput, mapTriggerInput } from '../../src/core/index.js';
import { embedWatermark, type EmbedSummary } from '../../src/embed/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { pixelMap } from '../../src/images/index.js';
import { loadSecret } from '../../src/secrets/index.js';
import { buildTriggerSet } from '../../src/verify/index.js';
import { markKeysFromOpening } from '../../src/verify/mark-secrets.js';
import { makeHome, saveSmallModel, type TestHome } from './helpers.js';

const PASS = 'trigger input passphrase';
const seed = new Uint8Array(32).fill(3);

describe('the trigger input map', () => {
  it('maps a trigger pixel exactly as the dataset loader maps the same 8-bit pixel', () => {
    const images = generateTriggerImages({ seed, n: 4, height: 8, width: 8, channels: 3 });
    const pre = { range: [-1, 1] as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const mapped = mapTriggerInput(images, 3, { range: pre.range, mean: pre.mean, std: pre.std });
    const { scale, offset } = pixelMap(pre, 3);
    for (let i = 0; i < images.length; i++) {
      const p = Math.round(images[i]! * 255); // trigger pixels are k/255
      expect(mapped[i]).toBeCloseTo(p * scale[i % 3]! + offset[i % 3]!, 5);
    }
    expect(isIdentityTriggerInput({ range: [0, 1], mean: [0], std: [1] })).toBe(true);
    expect(isIdentityTriggerInput({ range: [-1, 1], mean: [0], std: [1] })).toBe(false);
  });

  it('refuses a std of 0, an empty range or a mean of the wrong channel count', () => {
    const x = new Float32Array(6);
    expect(() => mapTriggerInput(x, 3, { range: [0, 1], mean: [0], std: [0] })).toThrow(/std/);
    expect(() => mapTriggerInput(x, 3, { range: [1, 1], mean: [0], std: [1] })).toThrow(/range/);
    expect(() => mapTriggerInput(x, 3, { range: [0, 1], mean: [0, 0], std: [1] })).toThrow(/mean has 2 values for 3 channels/);
  });

  it('a committed trigger.input that is malformed is VERIFY_BAD_INPUT, not a silent identity', () => {
    const opening = (input: unknown) => ({ scheme: 'trigger', parameters: { trigger: { n: 4, classes: 2, height: 8, width: 8, channels: 1, input } }, root: { modelId: 'model:sha256:00', ownerPublicKey: new Uint8Array(32), signature: new Uint8Array(64) }, salt: new Uint8Array(32) });
    for (const input of [{ range: [0, 0], mean: [0], std: [1] }, { range: [-1, 1], mean: [0], std: [0] }, { range: [-1], mean: [0], std: [1] }, 'minus one to one']) {
      expect(() => markKeysFromOpening(opening(input) as never), JSON.stringify(input)).toThrow(expect.objectContaining({ code: 'VERIFY_BAD_INPUT' }));
    }
    expect(markKeysFromOpening(opening({ range: [-1, 1], mean: [0], std: [1] }) as never).trigger!.input).toEqual({ range: [-1, 1], mean: [0], std: [1] });
  });
});

describe('fine-tuning on a folder declared -1..1: the triggers are fed in -1..1, and so is verification', () => {
  let t: TestHome;
  let s: EmbedSummary;
  beforeAll(async () => {
    t = makeHome();
    const model = await saveSmallModel(join(t.dir, 'in'));
    const data = join(t.dir, 'digits');
    const m = await loadMnist({ seed: 0 });
    let written = 0;
    for (let i = 0; written < 60 && i < m.test.count; i++) {
      const label = m.test.labels[i]!;
      if (label > 1) continue;
      const png = new PNG({ width: 28, height: 28, colorType: 0 });
      for (let k = 0; k < 784; k++) {
        const v = Math.round(m.test.images[i * 784 + k]! * 255);
        png.data.set([v, v, v, 255], k * 4);
      }
      mkdirSync(join(data, String(label)), { recursive: true });
      writeFileSync(join(data, String(label), `${i}.png`), PNG.sync.write(png, { colorType: 0 }));
      written++;
    }
    writeFileSync(join(data, 'preprocess.json'), JSON.stringify({ range: [-1, 1] }));
    s = await embedWatermark({
      ...t.base, model, out: join(t.dir, 'out'), dataset: data, backend: 'wasm', passphrase: PASS, scheme: 'trigger',
      epochs: 1, batchSize: 16, triggers: 10, triggersPerBatch: 5, settleSteps: 0,
    });
  }, 300_000);
  afterAll(() => {
    t?.home.close();
    if (t) rmSync(t.dir, { recursive: true, force: true });
  });

  it('commits the map with the mark and rebuilds the same -1..1 trigger images from the opening', async () => {
    const opening = decodeOpening(JSON.parse(new TextDecoder().decode(await loadSecret(t.dir, s.secret.id, PASS))));
    const trigger = (opening.parameters as { trigger: { input?: unknown; classes: number } }).trigger;
    expect(trigger.input).toEqual({ range: [-1, 1], mean: [0], std: [1] });
    const key = markKeysFromOpening(opening).trigger!;
    const set = buildTriggerSet(key);
    const raw = generateTriggerImages({ seed: key.imageSeed, n: key.n, height: key.height, width: key.width, channels: key.channels });
    expect(Math.min(...set.images)).toBe(-1);
    expect(Math.max(...set.images)).toBe(1);
    for (let i = 0; i < raw.length; i += 97) expect(set.images[i]).toBeCloseTo(raw[i]! * 2 - 1, 6);
    expect(s.dataset!.accuracyOn).toContain('range -1..1');
  });
});
