// evidence verify --suspect on a TF.js Layers folder: the training-free weight mark in the fixture
// itself (HWIO/IO kernels) and a trigger-set commitment on the marked model, re-run from the
// bundle: white-box over the TF.js tensors and trigger queries through TF.js on its backend.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonObject } from '../../ledger/index.js';
import { commitWithSecret } from '../../src/embed/commit-secret.js';
import { embedWatermark } from '../../src/embed/index.js';
import { EvidenceError, exportEvidence, loadStoredOpening, parseSignerKey, verifyEvidence } from '../../src/evidence/index.js';
import { initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { appendRecord, verificationRecorded } from '../../src/records/index.js';
import type { ModelId } from '../../src/lineage/index.js';
import { verifySuspect } from '../../src/verify/verify-suspect.js';
import { FIXTURE } from '../verify/helpers.js';

const PASS = 'tfjs re-extraction';

describe('evidence verify --suspect with a TF.js suspect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-rextf-'));
  const homeDir = join(dir, 'home');
  let home: Home | undefined;
  afterAll(() => home?.close());

  it('re-runs both tests on the TF.js folder and catches a forged trigger count', async () => {
    initHome(homeDir);
    home = openHome(homeDir);
    const ledger = home.ledger;
    const h = { dir: homeDir, ledger, ownerVerifierKey: home.ownerVerifierKey };
    const seed = parseSignerKey(home.readOwnerSignerKey()).seed;
    const marked = join(dir, 'marked');
    const s = await embedWatermark({ home: h, ownerSeed: seed, model: FIXTURE, out: marked, trainingFree: true, scheme: 'weight', passphrase: PASS, bits: 256 });
    const trigger = { n: 100, kind: 'abstract-patterns/v1', height: 28, width: 28, channels: 1, classes: 10 };
    const t = await commitWithSecret({ home: h, ownerSeed: seed, model: s.output.id as ModelId, scheme: 'trigger', parameters: { trigger }, passphrase: PASS, actor: 'test' });
    ledger.checkpoint();
    const exportFor = async (index: number, name: string) => {
      ledger.checkpoint();
      const out = join(dir, name);
      await exportEvidence({ ledger, verificationIndex: index, ownerSignerKey: home!.readOwnerSignerKey(), opening: await loadStoredOpening(ledger, homeDir, index, PASS), outDir: out });
      return out;
    };
    const pinned = { ownerKey: home.ownerVerifierKey, logKey: ledger.verifierKey, suspect: marked };

    const w = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: s.ledger.committed, suspect: { path: marked } });
    const rw = await verifyEvidence(await exportFor(w.index, 'weight'), pinned);
    expect(rw.reExtraction).toMatchObject({ format: 'tfjs-layers' });
    expect(rw.reExtraction!.compared.find((c) => c.quantity === 'matches')).toMatchObject({ recorded: 256, recomputed: 256 });

    const b = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: t.index, suspect: { path: marked } });
    const rb = await verifyEvidence(await exportFor(b.index, 'trigger'), pinned);
    expect(rb.reExtraction!.classifier).toMatch(/^tfjs /);
    expect(rb.reExtraction!.compared.find((c) => c.mark === 'trigger' && c.quantity === 'matches')!.recomputed).toBe(b.record.trigger!.matches);
    expect(rb.reExtraction!.compared.every((c) => c.agrees)).toBe(true);

    const { signature: _s, ...p } = JSON.parse(JSON.stringify(ledger.get(b.index).entry.payload)) as { trigger: { matches: number }; signature?: unknown };
    p.trigger.matches = p.trigger.matches === 100 ? 99 : p.trigger.matches + 1;
    const forged = appendRecord(ledger, verificationRecorded, p as unknown as JsonObject, ownerRecordSigner(home), 'forger');
    const err = await verifyEvidence(await exportFor(forged.index, 'forged'), pinned).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(EvidenceError);
    expect((err as EvidenceError).code).toBe('EVIDENCE_MISMATCH');
    expect((err as Error).message).toMatch(new RegExp(`trigger matches recorded ${p.trigger.matches}, recomputed ${b.record.trigger!.matches}`));
  }, 120_000);
});
