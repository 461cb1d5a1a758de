// Shared set-up of the guard-mark evidence tests (guard-evidence.test.ts, guard-evidence.slow.test.ts):
// a real guard over a real home answers two clients (thief: 200 digits, other: 100) at a 25% mark
// rate, commits both sets and seals them; a suspect model file is verified against both clients'
// sets (a signed verification.recorded, guard form) and the evidence is exported for the thief only.
// The suspect is either the owner's own model converted to ONNX (never trained on the answers: it
// gives the true labels, 0 marks) or a student: the fixture's TF.js model fine-tuned on the thief's
// 200 answers, marks included, which learns the wrong labels (slow).
import * as tf from '@tensorflow/tfjs';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { canonicalJsonBytes, type JsonObject } from '../../ledger/index.js';
import { dsseKeyId, EvidenceError, exportEvidence, formatBundleJson, IN_TOTO_PAYLOAD_TYPE, parseSignerKey, revealGuardSets, signEnvelope, verifyAnyEvidence } from '../../src/evidence/index.js';
import { loadLayersModel, saveLayersModel } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { appendGuardVerification, guardVerificationPayload, loadCommittedSets, verifyGuardMarks } from '../../src/guard/index.js';
import { ownerRecordSigner } from '../../src/home/index.js';
import { SIGNATURE_FIELD } from '../../src/records/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { fitModel } from '../../src/train/fit.js';
import { openLocalClassifier } from '../../src/verify/index.js';
import { REPO } from '../helpers/paths.js';
import { argmaxRows, fixtureOnnx, infer, openTestGuard, PASS, type TestGuard } from './helpers.js';

const mnist = await loadMnist({ seed: 0 });
export const img = (i: number, n: number) => mnist.test.images.slice(i * 784, (i + n) * 784);
const N = 200;

export interface GuardEvidenceSetup {
  readonly g: TestGuard;
  readonly thief: { id: string; secret: string };
  readonly other: { id: string; secret: string };
  readonly suspect: string;
  readonly vIndex: number;
  readonly root: string;
  /** The bundle exported for the thief only. */
  readonly out: string;
  pinned(): { logKey: string; ownerKey: string };
  recordVerification(suspect: string, clients: string[]): Promise<number>;
  exportTo(dir: string, index: number, clients?: string[]): ReturnType<typeof exportEvidence>;
  /** A copy of the bundle whose statement was changed and re-signed with the real owner key (an insider). */
  resigned(mutate: (p: Record<string, any>) => void): string;
  rejects(dir: string, re: RegExp, o?: { suspect?: string }): Promise<void>;
  /** A recorded payload without its signature, to be signed again after a change. */
  unsigned(index: number): any;
}

export async function setUpGuardEvidence(o: { student: boolean }): Promise<GuardEvidenceSetup> {
  const g = await openTestGuard({ markRate: 0.25 });
  const thief = g.client('thief');
  const other = g.client('other');
  const answers = argmaxRows(await infer(g.app, thief.secret, img(0, N), N, g.runner.inputName));
  await infer(g.app, other.secret, img(N, 100), 100, g.runner.inputName);
  await g.service.flush();
  g.home.ledger.checkpoint(); // seals both commitments
  const root = mkdtempSync(join(tmpdir(), 'hallmark-guard-evidence-'));
  let suspect: string;
  if (o.student) {
    await selectBackend('wasm');
    const model = await loadLayersModel(join(REPO, 'fixtures/mnist-cnn'));
    await fitModel({ model, optimizer: tf.train.adam(2e-3), data: { images: img(0, N), labels: answers, count: N, shape: [N, 28, 28, 1] }, numClasses: 10, epochs: 25, batchSize: 32, seed: 7 });
    suspect = join(root, 'student');
    await saveLayersModel(model, suspect);
    model.dispose();
  } else {
    suspect = await fixtureOnnx();
  }
  const pinned = () => ({ logKey: g.home.ledger.verifierKey, ownerKey: g.home.ownerVerifierKey });
  const recordVerification = async (file: string, clients: string[]) => {
    const sets = await loadCommittedSets({ dir: g.dir, ledger: g.home.ledger, trust: g.trust }, PASS, clients);
    const clf = await openLocalClassifier(file);
    try {
      const v = await verifyGuardMarks({ sets, classifier: clf });
      return appendGuardVerification(g.home.ledger, await guardVerificationPayload(v, { path: file }, g.home.ownerVerifierKey), ownerRecordSigner(g.home)).index;
    } finally {
      await clf.close();
    }
  };
  const exportTo = async (dir: string, index: number, clients?: string[]) => {
    const guardMarks = await revealGuardSets({ dir: g.dir, ledger: g.home.ledger, trust: g.trust }, PASS, index, clients);
    return exportEvidence({ ledger: g.home.ledger, verificationIndex: index, ownerSignerKey: g.home.readOwnerSignerKey(), opening: undefined, guardMarks, outDir: dir, trust: g.trust, actor: 'test' });
  };
  const vIndex = await recordVerification(suspect, [thief.id, other.id]);
  const out = join(root, 'bundle');
  await exportTo(out, vIndex, [thief.id]);
  return {
    g, thief, other, suspect, vIndex, root, out, pinned, recordVerification, exportTo,
    resigned(mutate) {
      const env = JSON.parse(readFileSync(join(out, 'evidence.json'), 'utf8')) as { payload: string };
      const stmt = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as Record<string, any>;
      mutate(stmt.predicate);
      const owner = parseSignerKey(g.home.readOwnerSignerKey());
      const dir = mkdtempSync(join(root, 'resigned-'));
      cpSync(out, dir, { recursive: true });
      writeFileSync(join(dir, 'evidence.json'), formatBundleJson(signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(stmt as JsonObject), [{ keyid: dsseKeyId(owner), seed: owner.seed }])));
      return dir;
    },
    async rejects(dir, re, opts = {}) {
      const err = await verifyAnyEvidence(dir, { ...pinned(), ...opts }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(EvidenceError);
      expect((err as Error).message).toMatch(re);
    },
    unsigned(index) {
      const p = JSON.parse(JSON.stringify(g.home.ledger.get(index).entry.payload)) as Record<string, unknown>;
      delete p[SIGNATURE_FIELD];
      return p;
    },
  };
}
