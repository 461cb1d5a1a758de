// The whole path through the public surface, as embed and verify will use it, plus a guard that
// the core stays pure.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as core from '../../src/core/index.js';
import { REPO } from '../helpers/paths.js';

describe('core end to end', () => {
  it('derive, commit, mark a converted kernel, verify, decide, open', () => {
    const ownerSeed = new Uint8Array(32).fill(11);
    const root = core.deriveWatermarkRoot(ownerSeed, 'fixture-cnn');
    const keys = core.deriveWatermarkKeys(root, 256);
    const parameters = { bits: 256, layer: 'dense', features: 1568 };
    const commitment = core.commitWatermark({ scheme: 'uchida-training-free', parameters, root, salt: new Uint8Array(32).fill(1) });

    // owner: a TF.js dense kernel, marked without training
    const g = core.createPrng(new Uint8Array(32).fill(12));
    const kernel = Float32Array.from({ length: 1568 * 64 }, () => (g.nextFloat() * 2 - 1) * 0.06);
    const x = core.generateProjection(keys.projectionSeed, 256, 1568);
    const marked = core.embedWeightMarkTrainingFree({
      kernel, shape: [1568, 64], layout: 'IO', projection: x, bits: keys.bits, margin: core.suggestMargin(kernel, [1568, 64], 'IO'),
    });

    // thief: converts to ONNX Gemm (transB = 1)
    const stolen = core.convertKernelLayout(marked.kernel, [1568, 64], 'IO', 'OI');

    // verifier: regenerates everything from the revealed root, checks it is the owner's
    const opened = core.openCommitment(commitment, core.decodeOpening(JSON.parse(JSON.stringify(core.encodeOpening({ scheme: 'uchida-training-free', parameters, root, salt: new Uint8Array(32).fill(1) })))));
    core.verifyWatermarkRoot(opened.root);
    const vkeys = core.deriveWatermarkKeys(opened.root, 256);
    const got = core.extractBits(core.generateProjection(vkeys.projectionSeed, 256, 1568), core.meanOverOutputChannels(stolen.data, stolen.shape, 'OI'));
    const cmp = core.compareBits(core.deriveMarkBits(root.ownerPublicKey, 'fixture-cnn', 256), got);
    const verdict = core.assessMatches({ matches: cmp.matches, trials: cmp.total, chance: 0.5 });
    expect(cmp.ber).toBe(0);
    expect(verdict.owned).toBe(true);
    expect(verdict.log10PValue).toBeCloseTo(-77.06, 2);

    // the unmarked original is not claimed
    const clean = core.compareBits(vkeys.bits, core.extractBits(x, core.meanOverOutputChannels(kernel, [1568, 64], 'IO')));
    expect(core.assessMatches({ matches: clean.matches, trials: 256, chance: 0.5 }).owned).toBe(false);
  });
});

describe('core purity', () => {
  const dir = join(REPO, 'src', 'core');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  it.each(files)('%s has no I/O, clock or ambient randomness', (f) => {
    const src = readFileSync(join(dir, f), 'utf8');
    expect(src).not.toMatch(/\bDate\.now\b|new Date\(|Math\.random|process\.env|performance\.now/);
    const imports = [...src.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    for (const i of imports) {
      const ok = i.startsWith('./') || i === '../../ledger/index.js' || i.startsWith('@noble/');
      expect(ok, `${f} imports ${i}`).toBe(true);
    }
  });
});
