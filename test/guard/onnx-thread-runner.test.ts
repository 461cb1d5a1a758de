// The model on a worker thread (onnx-thread-runner.ts) against the same model on this thread:
// a real MobileNetV2 (nsfwjs's, converted to ONNX) on real photos gives bit-identical scores,
// concurrent requests get their own answers, a worker that dies fails only the requests it held
// and the next request restarts it, and a file onnxruntime cannot load is a typed error. The
// guard with its model on a worker answers exactly as its documented rule says.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/formats/mnist.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { alterScores, argmax, decideMark, deriveClientKey, openLocalRunner, openOnnxRunner, openOnnxThreadRunner, quantiseInput, type ModelRunner } from '../../src/guard/index.js';
import { hallmark } from '../helpers/cli.js';
import { samplePhoto } from '../helpers/photos.js';
import { fixtureOnnx, infer, openTestGuard } from './helpers.js';

let mobilenet: string;
let inline: ModelRunner;
let threaded: ModelRunner;
const photos = [1, 2, 3, 4, 5, 6].map((k) => samplePhoto(k));
const batchOf = (...ks: number[]) => {
  const x = new Float32Array(ks.length * 224 * 224 * 3);
  ks.forEach((k, i) => x.set(photos[k]!, i * 224 * 224 * 3));
  return x;
};

beforeAll(async () => {
  mobilenet = join(mkdtempSync(join(tmpdir(), 'hallmark-thread-runner-')), 'mobilenet.onnx');
  writeFileSync(mobilenet, await convertTfjsToOnnx('fixtures/real/nsfwjs-mobilenet-v2'));
  inline = await openOnnxRunner(mobilenet);
  threaded = await openOnnxThreadRunner(mobilenet);
}, 120_000);

afterAll(async () => {
  await inline?.close();
  await threaded?.close();
});

describe('an ONNX model on a worker thread', () => {
  it('gives the same scores as on the calling thread, bit for bit, for one input and a batch', async () => {
    expect(threaded.dims).toEqual(inline.dims);
    expect(threaded.classes).toBe(5);
    expect(threaded.description).toMatch(/worker thread/);
    for (const ks of [[0], [1, 2, 3]]) {
      const x = batchOf(...ks);
      const want = await inline.run(x, ks.length);
      const got = await threaded.run(x, ks.length);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  it('answers concurrent requests each with its own scores, and leaves the caller its input', async () => {
    const want = await Promise.all(photos.map((p) => inline.run(p, 1)));
    const inputs = photos.map((p) => p.slice());
    const got = await Promise.all([...inputs, ...inputs].map((p) => threaded.run(p, 1)));
    got.forEach((y, i) => expect(Array.from(y)).toEqual(Array.from(want[i % 6]!)));
    inputs.forEach((p, i) => expect(p).toEqual(photos[i])); // copied, not transferred away
  });

  it('when the worker dies, fails the requests it held with GUARD_UPSTREAM and restarts on the next', async () => {
    const crashy = await openOnnxThreadRunner(mobilenet, { workerEntry: new URL('./crashy-onnx-worker.js', import.meta.url) });
    try {
      const want = await inline.run(photos[4]!, 1);
      await expect(crashy.run(batchOf(0, 1), 2)).rejects.toMatchObject({ code: 'GUARD_UPSTREAM', message: expect.stringMatching(/model worker stopped \(it exited \(code 3\)\)/) });
      expect(Array.from(await crashy.run(photos[4]!, 1))).toEqual(Array.from(want));
    } finally {
      await crashy.close();
    }
    await expect(crashy.run(photos[0]!, 1)).rejects.toMatchObject({ code: 'GUARD_UPSTREAM', message: 'the model runner is closed' });
  }, 60_000);

  it('a file onnxruntime cannot load is GUARD_BAD_INPUT with one readable line', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'hallmark-thread-runner-')), 'not-a-model.onnx');
    writeFileSync(bad, 'this is not an ONNX model');
    const err = await openOnnxThreadRunner(bad).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GUARD_BAD_INPUT', message: expect.stringMatching(/^onnxruntime cannot load .*not-a-model\.onnx: [^\n]+$/) });
  });

  it('auto placement: the 0.05 ms fixture stays on the request thread, MobileNetV2 (300 MFLOP, about 5 ms a call) goes to a worker', async () => {
    const small = await openLocalRunner(await fixtureOnnx());
    const big = await openLocalRunner(mobilenet);
    try {
      expect(small.description).toMatch(/\(request thread: a model call takes \d+\.\d\d ms\)$/);
      expect(big.description).toMatch(/\(worker thread\): a model call takes \d+\.\d\d ms$/);
    } finally {
      await small.close();
      await big.close();
    }
  }, 60_000);
});

describe('the guard with its model on a worker thread', () => {
  it('hallmark guard --model-thread takes auto, worker or inline; anything else is exit 2 with one line', async () => {
    const r = hallmark(['guard', '--model', await fixtureOnnx(), '--model-thread', 'sideways'], { env: { HALLMARK_PASSPHRASE: 'x' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^hallmark: INVALID_ARGUMENT: --model-thread must be one of auto, worker, inline, got "sideways"$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers concurrent requests exactly as the documented rule says (every input marked)', async () => {
    const g = await openTestGuard({ placement: 'worker', markRate: 1, maxAltered: 1 });
    try {
      const c = g.client('alice');
      const { test } = await loadMnist({ seed: 0 });
      const img = (i: number, n = 1) => test.images.subarray(i * 784, (i + n) * 784);
      const direct = await openOnnxRunner(await fixtureOnnx());
      const got = await Promise.all([0, 10, 20, 30].map((from) => infer(g.app, c.secret, img(from, 10), 10, g.runner.inputName)));
      const key = deriveClientKey(g.guardKeys.watermark, c.id);
      for (let i = 0; i < 40; i++) {
        const row = await direct.run(img(i), 1);
        const y = argmax(row);
        const d = decideMark(key, quantiseInput(img(i), [28, 28, 1]), y, 10, 1);
        expect(d.selected).toBe(true);
        const want = alterScores(row, y, d.label!);
        const answer = got[Math.floor(i / 10)]!.subarray((i % 10) * 10, (i % 10 + 1) * 10);
        expect(Array.from(answer).map((v) => Math.fround(v))).toEqual(Array.from(want));
      }
      await direct.close();
    } finally {
      await g.close();
    }
  }, 60_000);
});
