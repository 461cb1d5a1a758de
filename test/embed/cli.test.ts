// `hallmark embed` as a user runs it (the built CLI in dist/): JSON lines, the readable summary,
// and the passphrase rules. The fine-tuning run through the CLI is in embed-fixture.slow.test.ts.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tensorFromFloat32, writeSafetensorsFile } from '../../src/formats/index.js';
import { hallmark } from '../helpers/cli.js';
import { makeHome, type TestHome } from './helpers.js';

let t: TestHome;
let model: string;
const env = { HALLMARK_PASSPHRASE: 'cli passphrase' };

beforeAll(async () => {
  t = makeHome();
  t.home.close(); // the CLI opens the home itself
  model = join(t.dir, 'w.safetensors');
  await writeSafetensorsFile(model, [tensorFromFloat32('fc.weight', 'F32', [8, 400], Float32Array.from({ length: 3200 }, (_, i) => Math.cos(i * 0.37)))]);
});
afterAll(() => rmSync(t.dir, { recursive: true, force: true }));

describe('hallmark embed', () => {
  it('--json prints one object per progress event, then the summary, naming the backend', () => {
    const r = hallmark(['embed', model, '--out', join(t.dir, 'a.safetensors'), '--scheme', 'weight', '--training-free', '--bits', '64', '--json'], { home: t.dir, env });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines.slice(0, -1)) expect(l).toMatchObject({ event: 'progress', backend: expect.any(String) });
    const s = lines.at(-1)!;
    expect(s).toMatchObject({ event: 'summary', scheme: 'weight', trainingFree: true, ok: true, backend: { name: 'none' }, weight: { ber: 0, bits: 64, layout: 'OI' } });
    expect(s.ledger).toMatchObject({ committed: 1, model: 2, derivation: 3 });
  });

  it('prints a readable summary without --json', () => {
    const r = hallmark(['embed', model, '--out', join(t.dir, 'b.safetensors'), '--scheme', 'weight', '--training-free', '--bits', '72'], { home: t.dir, env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Embedded: weight watermark \(training-free\)/);
    expect(r.stdout).toMatch(/backend\s+no training/);
    expect(r.stdout).toMatch(/BER 0\.0000/);
    expect(r.stdout).toMatch(/watermark\.committed #\d+, model\.registered #\d+, lineage\.derived #\d+/);
  });

  it('without HALLMARK_PASSPHRASE and no terminal, says how to give one', () => {
    const r = hallmark(['embed', model, '--out', join(t.dir, 'c.safetensors'), '--scheme', 'weight', '--training-free'], { home: t.dir, env: { HALLMARK_PASSPHRASE: '' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^hallmark: SECRET_NO_PASSPHRASE: .*HALLMARK_PASSPHRASE/);
  });

  it('a wrong passphrase and a missing model are one-line errors with usage exit codes', () => {
    const wrong = hallmark(['embed', model, '--out', join(t.dir, 'd.safetensors'), '--scheme', 'weight', '--training-free'], { home: t.dir, env: { HALLMARK_PASSPHRASE: 'other' } });
    expect(wrong.stderr).toMatch(/^hallmark: SECRET_BAD_PASSPHRASE: [^\n]*\n$/);
    const missing = hallmark(['embed', join(t.dir, 'nope.onnx'), '--out', join(t.dir, 'e.onnx'), '--scheme', 'weight', '--training-free'], { home: t.dir, env });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^hallmark: EMBED_MODEL_NOT_FOUND: [^\n]*\n$/);
    const scheme = hallmark(['embed', model, '--out', join(t.dir, 'f'), '--scheme', 'all'], { home: t.dir, env });
    expect(scheme.status).toBe(2);
  });
});
