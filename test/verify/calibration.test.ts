import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitWithSecret } from '../../src/embed/commit-secret.js';
import { parseSignerKey } from '../../src/evidence/owner-key.js';
import { homeTrust, initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { modelIdFor } from '../../src/lineage/index.js';
import { CALIBRATION_RECORDED, findCalibration, runCalibration } from '../../src/verify/calibration.js';
import { loadMark } from '../../src/verify/mark-secrets.js';
import { hallmark } from '../helpers/cli.js';

const PASS = 'calibrate me';

describe('calibration of the null (hallmark calibrate)', () => {
  const homeDir = join(mkdtempSync(join(tmpdir(), 'hallmark-cal-')), 'home');
  let home: Home;
  let committed: { index: number; commitment: string };

  beforeAll(async () => {
    initHome(homeDir);
    home = openHome(homeDir);
    const seed = parseSignerKey(home.readOwnerSignerKey()).seed;
    committed = await commitWithSecret({
      home: { dir: homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, ownerSeed: seed, model: modelIdFor('ab'.repeat(32)), scheme: 'both',
      parameters: { weight: { bits: 64, layer: 'conv2', shape: [3, 3, 16, 32], layout: 'HWIO' }, trigger: { n: 100, height: 28, width: 28, channels: 1, classes: 10 } },
      passphrase: PASS, actor: 'test',
    });
  });
  afterAll(() => home?.close());

  it('trains K unmarked models, records their agreement and BER, and verification finds the entry', async () => {
    const trust = homeTrust(home);
    const mark = await loadMark({ dir: homeDir, ledger: home.ledger }, PASS, committed.index, trust);
    expect(mark.index).toBe(committed.index);
    const seen: number[] = [];
    const r = await runCalibration(home.ledger, { mark, commitment: committed, models: 2, trainSamples: 256, epochs: 1, backend: 'wasm', signer: ownerRecordSigner(home), onModel: (e) => seen.push(e.k) });
    expect(seen).toEqual([1, 2]);
    const e = home.ledger.get(r.index);
    expect(e.entry.type).toBe(CALIBRATION_RECORDED);
    const p = e.entry.payload as { seeds: number[]; trigger: { agreement: number[]; max: number }; weight: { ber: number[]; bits: number }; cleanAccuracy: number[] };
    expect(p.seeds).toEqual([1000, 1001]);
    expect(p.trigger.agreement).toHaveLength(2);
    expect(p.trigger.max).toBe(Math.max(...p.trigger.agreement));
    // Unmarked models read about half the bits and about 1 in 10 trigger labels.
    for (const b of p.weight.ber) expect(b).toBeGreaterThan(0.15);
    for (const a of p.trigger.agreement) expect(a).toBeLessThan(0.35);
    expect(p.weight.bits).toBe(64);
    expect(findCalibration(home.ledger, committed.index, { n: 100, classes: 10 }, trust)).toEqual({ index: r.index, rates: p.trigger.agreement });
    expect(findCalibration(home.ledger, committed.index, { n: 50, classes: 10 }, trust)).toBeUndefined();
    expect(findCalibration(home.ledger, committed.index + 1, undefined, trust)).toBeUndefined();
  });

  it('the CLI records one and prints the rule it implies', () => {
    const r = hallmark(['calibrate', '--models', '1', '--train-samples', '128', '--backend', 'wasm'], { home: homeDir, env: { HALLMARK_PASSPHRASE: PASS } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/calibration.recorded #\d+: 1 unmarked models/);
    expect(r.stdout).toMatch(/chance = max\(1\/C, /);
  });
});
