// The full job on the fixture model, through the built CLI: both marks embedded by fine-tuning
// on the built-in mnist, read back from the written model, clean accuracy nearly unchanged.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/paths.js';
import { hallmark } from '../helpers/cli.js';
import { makeHome, type TestHome } from './helpers.js';

let t: TestHome;
let lines: Record<string, unknown>[];

beforeAll(() => {
  t = makeHome();
  t.home.close();
  const r = hallmark(['embed', join(REPO, 'fixtures', 'mnist-cnn'), '--out', join(t.dir, 'marked'), '--backend', 'wasm', '--json'], {
    home: t.dir, env: { HALLMARK_PASSPHRASE: 'slow test' }, timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`embed exited ${r.status}: ${r.stderr}`);
  lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
});
afterAll(() => rmSync(t.dir, { recursive: true, force: true }));

describe('hallmark embed on fixtures/mnist-cnn', () => {
  it('embeds both marks: BER 0, trigger accuracy >= 99%, a small clean-accuracy drop', () => {
    const s = lines.at(-1) as Record<string, any>;
    expect(s.event).toBe('summary');
    expect(s.ok).toBe(true);
    expect(s.backend.name).toBe('wasm');
    expect(s.weight).toMatchObject({ bits: 256, ber: 0, layer: 'dense1' });
    expect(s.weight.berBefore).toBeGreaterThan(0.3);
    expect(s.trigger.accuracy).toBeGreaterThanOrEqual(0.99);
    expect(s.trigger.accuracyBefore).toBeLessThan(0.3);
    expect(s.cleanAccuracyBefore).toBeGreaterThanOrEqual(0.97);
    expect(s.accuracyDropPoints).toBeLessThanOrEqual(1);
    expect(s.ledger).toEqual({ inputModel: 0, dataset: 1, committed: 2, model: 3, derivation: 4 });
  });

  it('reported progress per batch with epoch, loss, trigger accuracy and samples/s', () => {
    const train = lines.filter((l) => l.phase === 'train' && l.step !== undefined);
    expect(train.length).toBeGreaterThan(30);
    for (const e of train) expect(e).toMatchObject({ event: 'progress', backend: 'wasm', epoch: expect.any(Number), batch: expect.any(Number), loss: expect.any(Number), triggerAccuracy: expect.any(Number), samplesPerSecond: expect.any(Number) });
  });
});
