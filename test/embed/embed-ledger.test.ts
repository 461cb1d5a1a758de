// One short, real embedding run (a few wasm steps on a small mnist subset) and what it leaves
// behind: the ledger order, no secret in any entry, the encrypted opening that opens the
// committed digest, and a written model whose bits are what the summary says.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64, toHex } from '../../ledger/index.js';
import {
  compareBits, decodeOpening, deriveWatermarkKeys, extractBits, generateProjection, meanOverOutputChannels, openCommitment, verifyWatermarkRoot,
} from '../../src/core/index.js';
import { embedWatermark, type EmbedEvent, type EmbedSummary } from '../../src/embed/index.js';
import { verifyRecordEntry, watermarkCommitted } from '../../src/records/index.js';
const readCommitted = (e: { entry: Parameters<typeof verifyRecordEntry>[0] }, owner: string) => verifyRecordEntry(e.entry, watermarkCommitted, { owner }).record;
import { readModelTensors, tensorToFloat32 } from '../../src/formats/index.js';
import { readDerivationRecord, readModelRecord } from '../../src/lineage/index.js';
import { loadSecret } from '../../src/secrets/index.js';
import { makeHome, saveSmallModel, type TestHome } from './helpers.js';

let t: TestHome;
let summary: EmbedSummary;
const events: EmbedEvent[] = [];
const PASS = 'correct horse battery staple';

beforeAll(async () => {
  t = makeHome();
  const model = await saveSmallModel(join(t.dir, 'in'));
  summary = await embedWatermark({
    ...t.base, model, out: join(t.dir, 'out'), dataset: 'mnist', backend: 'wasm', passphrase: PASS,
    epochs: 1, batchSize: 32, trainLimit: 96, testLimit: 200, bits: 64, triggers: 20, triggersPerBatch: 8, settleSteps: 2,
    onProgress: (e) => events.push(e),
  });
}, 120_000);

afterAll(() => {
  t.home.close();
  rmSync(t.dir, { recursive: true, force: true });
});

describe('embedWatermark (fine-tuning, short run)', () => {
  it('appends input, dataset, watermark.committed, then the output and its lineage, in that order', () => {
    const entries = t.home.ledger.list({});
    expect(entries.map((e) => e.entry.type)).toEqual(['model.registered', 'dataset.registered', 'watermark.committed', 'model.registered', 'lineage.derived']);
    expect(summary.ledger).toEqual({ inputModel: 0, dataset: 1, committed: 2, model: 3, derivation: 4 });
    const committed = readCommitted(entries[2]!, t.home.ownerVerifierKey);
    // Commit, then seal: a checkpoint covering the commitment, signed before the output existed.
    expect(summary.seal.checkpointSize).toBe(3);
    expect(t.home.ledger.checkpointCovering(2)!.size).toBe(3);
    expect(committed.model).toBe(summary.input.id);
    expect(committed.model).toBe(readModelRecord(entries[0]!.entry.payload).id);
    expect(committed.scheme).toBe('both');
    expect(committed.commitment).toBe(summary.commitment);
    expect(committed.ownerKey).toBe(t.home.ownerVerifierKey);
    expect(readModelRecord(entries[3]!.entry.payload).id).toBe(summary.output.id);
    const d = readDerivationRecord(entries[4]!.entry.payload);
    expect(d.operation).toBe('watermark.embed');
    expect(d.inputs).toEqual({ models: [summary.input.id], datasets: [summary.dataset!.id] });
    expect(d.outputs).toEqual([summary.output.id]);
    expect(summary.output.id).not.toBe(summary.input.id);
  });

  it('writes no secret into any entry (seed, root, derived seeds, salt; hex or base64)', async () => {
    const opening = decodeOpening(JSON.parse(new TextDecoder().decode(await loadSecret(t.dir, summary.secret.id, PASS))));
    const keys = deriveWatermarkKeys(opening.root, 64);
    const secrets = [t.seed, opening.root.signature, keys.projectionSeed, keys.triggerImageSeed, keys.triggerLabelSeed, opening.salt];
    const needles = secrets.flatMap((s) => [toHex(s), toBase64(s), Buffer.from(s).toString('base64url'), toHex(s.subarray(0, 12)), toBase64(s.subarray(0, 12)).slice(0, 14)]);
    for (const e of t.home.ledger.list({})) {
      const text = Buffer.from(e.bytes).toString('latin1');
      for (const n of needles) expect(text.includes(n), `entry ${e.index} contains secret bytes`).toBe(false);
    }
  });

  it('stores the opening encrypted: it opens the committed digest, and only with the passphrase', async () => {
    await expect(loadSecret(t.dir, summary.secret.id, 'wrong passphrase')).rejects.toMatchObject({ code: 'SECRET_BAD_PASSPHRASE' });
    const opening = decodeOpening(JSON.parse(new TextDecoder().decode(await loadSecret(t.dir, summary.secret.id, PASS))));
    const committed = readCommitted(t.home.ledger.get(summary.ledger.committed), t.home.ownerVerifierKey);
    openCommitment({ type: 'hallmark.watermark-commitment', version: 1, digest: committed.commitment }, opening);
    verifyWatermarkRoot(opening.root);
    expect(opening.root.modelId).toBe(summary.input.id);
    expect(opening.parameters).toEqual(committed.parameters);
  });

  it('reports the bit error rate of the written file', async () => {
    const opening = decodeOpening(JSON.parse(new TextDecoder().decode(await loadSecret(t.dir, summary.secret.id, PASS))));
    const w = summary.weight!;
    const tensor = (await readModelTensors(summary.output.path)).tensors.find((x) => x.name === `${w.layer}/kernel`)!;
    const keys = deriveWatermarkKeys(opening.root, w.bits);
    expect(w.layout).toBe('HWIO');
    const mean = meanOverOutputChannels(tensorToFloat32(tensor), tensor.shape, 'HWIO');
    const cmp = compareBits(keys.bits, extractBits(generateProjection(keys.projectionSeed, w.bits, mean.length), mean));
    expect(cmp.errors).toBe(w.bitErrors);
    expect(w.layer).toBe('conv2'); // 64 bits: the first kernel with >= 128 features
  });

  it('names the backend in the summary and every progress event', () => {
    expect(summary.backend.name).toBe('wasm');
    expect(events.length).toBeGreaterThan(3);
    for (const e of events) expect(e.backend).toBe('wasm');
    const train = events.filter((e) => e.phase === 'train' && e.step !== undefined);
    expect(events.some((e) => e.phase === 'train' && /settling: 2 steps/.test(e.message ?? ''))).toBe(true);
    expect(train.length).toBe(summary.training!.steps);
    expect(train[0]).toMatchObject({ epoch: 1, batch: 1, batches: 3 });
    expect(typeof train[0]!.loss).toBe('number');
    expect(typeof train[0]!.triggerAccuracy).toBe('number');
  });
});
