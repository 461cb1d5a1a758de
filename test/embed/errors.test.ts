// Bad input gives a typed error with one readable line, and nothing is appended or written.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedWatermark, type EmbedOptions } from '../../src/embed/index.js';
import { tensorFromFloat32, writeSafetensorsFile } from '../../src/formats/index.js';
import { makeHome, saveSmallModel, type TestHome } from './helpers.js';

let t: TestHome;
let tfjs: string;
let st: string;
const PASS = 'first passphrase';

function pngFolder(dir: string, side: number, extra?: string): string {
  for (const cls of ['0', '1']) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const png = new PNG({ width: side, height: side });
      png.data.fill(i * 40);
      writeFileSync(join(dir, cls, `${i}.png`), PNG.sync.write(png));
    }
  }
  if (extra) writeFileSync(join(dir, '0', extra), 'not a png');
  return dir;
}

beforeAll(async () => {
  t = makeHome();
  tfjs = await saveSmallModel(join(t.dir, 'tfjs'));
  st = join(t.dir, 'w.safetensors');
  await writeSafetensorsFile(st, [tensorFromFloat32('fc.weight', 'F32', [4, 300], Float32Array.from({ length: 1200 }, (_, i) => Math.sin(i)))]);
  // One secret in the home, so that the passphrase has something to be checked against.
  await embedWatermark({ ...t.base, model: st, out: join(t.dir, 'first.safetensors'), scheme: 'weight', trainingFree: true, bits: 32, passphrase: PASS });
}, 120_000);

afterAll(() => {
  t.home.close();
  rmSync(t.dir, { recursive: true, force: true });
});

async function refused(o: Partial<EmbedOptions>, code: string): Promise<void> {
  const size = t.home.ledger.list({}).length;
  const out = o.out ?? join(t.dir, `out-${code}-${size}-${Math.random().toString(36).slice(2)}`);
  const err = await embedWatermark({ ...t.base, model: tfjs, out, backend: 'wasm', passphrase: PASS, epochs: 1, trainLimit: 32, testLimit: 32, ...o }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toMatchObject({ code });
  expect((err as Error).message).not.toMatch(/\n/);
  expect(t.home.ledger.list({}).length).toBe(size);
  if (!o.out) expect(existsSync(out)).toBe(false);
}

describe('embedWatermark refuses bad input', () => {
  it('a wrong passphrase for the home\'s secrets', () => refused({ passphrase: 'not the first passphrase' }, 'SECRET_BAD_PASSPHRASE'));
  it('a wrong passphrase, training-free too', () => refused({ model: st, scheme: 'weight', trainingFree: true, passphrase: 'nope' }, 'SECRET_BAD_PASSPHRASE'));
  it('a missing model', () => refused({ model: join(t.dir, 'no-such-model') }, 'EMBED_MODEL_NOT_FOUND'));
  it('a missing dataset folder', () => refused({ dataset: join(t.dir, 'no-such-data') }, 'EMBED_DATASET_INVALID'));
  // Images of another size are resized to the model's input (issue 11); a preprocessing file that
  // cannot be followed is refused before anything is trained or written.
  it('a preprocess.json with an unknown setting', () => {
    const dir = pngFolder(join(t.dir, 'png8'), 8);
    writeFileSync(join(dir, 'preprocess.json'), JSON.stringify({ sharpen: true }));
    return refused({ dataset: dir }, 'EMBED_DATASET_INVALID');
  });
  it('a dataset folder with a non-PNG file', () => refused({ dataset: pngFolder(join(t.dir, 'pngx'), 28, 'notes.txt') }, 'EMBED_DATASET_INVALID'));
  it('an output path that exists', () => refused({ out: st }, 'EMBED_OUTPUT_EXISTS'));
  it('fine-tuning a safetensors file', () => refused({ model: st }, 'EMBED_UNSUPPORTED'));
  it('a trigger mark without training', () => refused({ model: st, trainingFree: true, scheme: 'both' }, 'EMBED_UNSUPPORTED'));
  it('a layer the model does not have', () => refused({ layer: 'conv9' }, 'EMBED_LAYER_NOT_FOUND'));
  it('a tensor the file does not have', () => refused({ model: st, trainingFree: true, scheme: 'weight', tensor: 'nope' }, 'EMBED_LAYER_NOT_FOUND'));
  it('a caller mistake is a TypeError', async () => {
    await expect(embedWatermark({ ...t.base, ownerSeed: new Uint8Array(3), model: tfjs, out: join(t.dir, 'x'), passphrase: PASS })).rejects.toThrow(TypeError);
  });
});
