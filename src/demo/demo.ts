// The end-to-end demo behind `hallmark demo`: the main job on the embedded defaults, in a
// temporary home. Each stage prints what it did: init, register, checkpoint, prove, embed, verify
// the stolen copy, export and check the ownership evidence.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashLeaf, newVerifier, openCheckpoint, toBase64, toHex, verifyInclusion } from '../../ledger/index.js';
import { embedWatermark, type EmbedSummary } from '../embed/index.js';
import { parseSignerKey } from '../evidence/owner-key.js';
import { initHome, openHome, type Home } from '../home/index.js';
import { PASSPHRASE_ENV } from '../secrets/index.js';
import type { VerificationReport } from '../verify/verify-suspect.js';
import { identifyDataset, identifyModel, registerDataset, registerModel } from '../lineage/index.js';
import { evidenceStage } from './evidence-stage.js';
import { verifyStage } from './verify-stage.js';

export interface DemoOptions {
  readonly home?: string;
  readonly log: (line: string) => void;
}

export interface DemoResult {
  readonly home: string;
  readonly size: number;
  readonly checkpoint: string;
  readonly provedIndex: number;
  readonly embed: EmbedSummary;
  readonly verification: { readonly stolen: VerificationReport; readonly original: VerificationReport };
  readonly evidence: { readonly dir: string; readonly pdf: string };
}

/** fixtures/mnist-cnn, found upwards from this file (src/demo in tests, dist/src/demo when built). */
function findFixture(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    const f = join(d, 'fixtures', 'mnist-cnn');
    if (existsSync(join(f, 'model.json'))) return f;
  }
  throw new Error('fixtures/mnist-cnn not found beside the installed hallmark');
}

const DEMO_PASSPHRASE = 'hallmark-demo';

/** Stage 6: both marks in the fixture model, on a small subset so that the demo stays short. */
async function embedStage(home: Home, dir: string, log: (line: string) => void): Promise<EmbedSummary> {
  const passphrase = process.env[PASSPHRASE_ENV] || DEMO_PASSPHRASE;
  log('6. embed: weight (256 bits) and trigger-set (100 images) marks in fixtures/mnist-cnn by fine-tuning');
  log('   on 1,280 mnist training images, at most 5 epochs, all 100 triggers in every batch; stops once both marks read back');
  let lastEpoch = 0;
  const s = await embedWatermark({
    home: { dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey },
    ownerSeed: parseSignerKey(home.readOwnerSignerKey()).seed,
    model: findFixture(), out: join(dir, 'models', 'mnist-cnn-marked'), dataset: 'mnist', scheme: 'both',
    // Twice the default rate and every trigger in every batch: the marks in ~100 steps, for a short demo.
    epochs: 5, trainLimit: 1280, testLimit: 500, triggersPerBatch: 100, learningRate: 1e-3, minSteps: 20, settleSteps: 20, backend: 'auto', passphrase, actor: 'demo',
    onProgress: (e) => {
      if ((e.phase === 'load' || e.phase === 'train') && e.message) {
        log(`   ${e.message}`);
        lastEpoch = 0;
      }
      if (e.phase === 'train' && e.step !== undefined && e.batch === e.batches && e.epoch !== lastEpoch) {
        lastEpoch = e.epoch!;
        log(`   epoch ${e.epoch}/${e.epochs}: loss ${e.loss!.toFixed(3)}, triggers ${(e.triggerAccuracy! * 100).toFixed(0)}%, BER ${e.ber!.toFixed(3)}, ${e.samplesPerSecond!.toFixed(0)} samples/s (${e.backend})`);
      }
    },
  });
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  log(`   accuracy ${pct(s.cleanAccuracyBefore!)} -> ${pct(s.cleanAccuracyAfter!)} on the first 500 mnist test images; BER ${s.weight!.ber} (${s.weight!.bits} bits in ${s.weight!.layer}); triggers ${s.trigger!.matches}/${s.trigger!.n}; ${s.training!.steps} steps, ${s.seconds.toFixed(1)} s on ${s.backend.name}`);
  log(`   ledger: #${s.ledger.inputModel} model.registered (input), #${s.ledger.dataset} dataset.registered, #${s.ledger.committed} watermark.committed (before the marked model existed), #${s.ledger.model} model.registered, #${s.ledger.derivation} lineage.derived (watermark.embed)`);
  log(`   secret: encrypted in ${s.secret.path} (passphrase from ${PASSPHRASE_ENV}, else "${DEMO_PASSPHRASE}")`);
  return s;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const dir = opts.home ?? mkdtempSync(join(tmpdir(), 'hallmark-demo-'));
  const { log } = opts;
  log(`1. init: a fresh home in ${dir}`);
  // The demo's keys are sealed like any home's (the passphrase: $HALLMARK_PASSPHRASE, else the demo's).
  const homePassphrase = process.env[PASSPHRASE_ENV] || DEMO_PASSPHRASE;
  const init = initHome(dir, { passphrase: homePassphrase });
  log(`   log key   ${init.logVerifierKey}`);
  log(`   owner key ${init.ownerVerifierKey}`);

  const home = openHome(dir, { passphrase: homePassphrase });
  try {
    const { ledger } = home;
    log('2. register: the built-in mnist dataset and the fixture model, by content digest');
    const [dataset, model] = await Promise.all([identifyDataset('mnist'), identifyModel(findFixture(), 'mnist-cnn')]);
    const ds = registerDataset(ledger, { dataset: dataset.descriptor, items: dataset.items, actor: 'demo' });
    const md = registerModel(ledger, { model: model.descriptor, format: model.format, tensors: model.tensors, actor: 'demo' });
    const note = ledger.append({ type: 'note.added', actor: 'demo', payload: { text: 'hello from the Hallmark demo' } });
    const entries = [ledger.get(ds.index), ledger.get(md.index), note];
    for (const e of entries) log(`   #${e.index} ${e.entry.type.padEnd(20)} leaf ${toHex(e.leafHash).slice(0, 16)}…`);
    log(`   ${dataset.id} (${dataset.items} images), ${model.id}`);

    log('3. checkpoint: sign the tree head (C2SP tlog-checkpoint, Ed25519)');
    const cp = ledger.checkpoint();
    for (const line of cp.note.trimEnd().split('\n')) log(`   | ${line}`);

    const index = entries[1]!.index;
    log(`4. prove: entry #${index} is in the tree the checkpoint signs`);
    const proof = ledger.inclusionProof(index, cp.size);
    log(`   ${proof.hashes.length} hashes: ${proof.hashes.map((h) => toBase64(h).slice(0, 10) + '…').join(' ')}`);

    // Verify as an outsider would: only the entry bytes, the proof, the note and the public key.
    const opened = openCheckpoint(cp.note, newVerifier(ledger.verifierKey), ledger.origin);
    const got = ledger.get(index);
    verifyInclusion(index, opened.size, hashLeaf(got.bytes), proof.hashes, opened.root);
    log(`5. verify: signature ok, entry bytes hash to the leaf, proof leads to the signed root. Verified.`);
    const embed = await embedStage(home, dir, log);
    // embed sealed its commitment itself (commit, then seal), before the marked model existed.
    log(`   sealed: checkpoint of size ${embed.seal.checkpointSize} covers the commitment (#${embed.ledger.committed}); embed signed it before writing the marked model, no manual checkpoint needed`);
    const passphrase = process.env[PASSPHRASE_ENV] || DEMO_PASSPHRASE;
    const verification = await verifyStage(home, dir, embed, passphrase, log);
    const evidence = await evidenceStage(home, dir, verification.stolen, verification.stolenPath, passphrase, log);
    return { home: dir, size: cp.size, checkpoint: cp.note, provedIndex: index, embed, verification, evidence: { dir: evidence.dir, pdf: evidence.pdf } };
  } finally {
    home.close();
  }
}
