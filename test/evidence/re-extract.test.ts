// evidence verify --suspect, end to end with the real pieces: the fixture CNN converted to ONNX,
// marked with the training-free weight mark (embedWatermark), a trigger-set commitment on the
// marked model, both checked by verifySuspect (which appends verification.recorded), evidence
// exported, then the extraction re-run from the bundle alone and compared with the record.
// A forger holding both keys (owner and log: one home) can record any numbers and sign a
// flawless bundle; only re-running the extraction on the file catches that.
import { copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJsonBytes, type JsonObject } from '../../ledger/index.js';
import { commitWithSecret } from '../../src/embed/commit-secret.js';
import { embedWatermark } from '../../src/embed/index.js';
import {
  dsseKeyId, EvidenceError, exportEvidence, formatBundleJson, loadStoredOpening, parseSignerKey, signEnvelope, verifyEvidence, type DsseEnvelope,
} from '../../src/evidence/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { readModelTensors, writeSafetensorsFile } from '../../src/formats/index.js';
import { initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { appendRecord, verificationRecorded } from '../../src/records/index.js';
import type { ModelId } from '../../src/lineage/index.js';
import { verifySuspect } from '../../src/verify/verify-suspect.js';
import { hallmark } from '../helpers/cli.js';
import { FIXTURE, naiveUpperTail } from '../verify/helpers.js';

const PASS = 'evidence re-extraction';
const dir = mkdtempSync(join(tmpdir(), 'hallmark-rex-'));
const homeDir = join(dir, 'home');
const original = join(dir, 'fixture.onnx');
const marked = join(dir, 'marked.onnx');
let home: Home;
let weightOut: string;
let triggerOut: string;
let weightPayload: JsonObject;
let triggerPayload: JsonObject;

const pinned = () => ({ ownerKey: home.ownerVerifierKey, logKey: home.ledger.verifierKey });
let n = 0;
async function exportFor(index: number): Promise<string> {
  const out = join(dir, `evidence-${n++}`);
  home.ledger.checkpoint();
  const opening = await loadStoredOpening(home.ledger, homeDir, index, PASS);
  await exportEvidence({ ledger: home.ledger, verificationIndex: index, ownerSignerKey: home.readOwnerSignerKey(), opening, outDir: out });
  return out;
}
/** What a forger with the owner's and the log's key can do: record numbers nobody measured. */
async function forge(payload: JsonObject, mutate: (p: any) => void): Promise<string> {
  const p = JSON.parse(JSON.stringify(payload)) as JsonObject;
  mutate(p);
  delete (p as { signature?: unknown }).signature;
  return exportFor(appendRecord(home.ledger, verificationRecorded, p, ownerRecordSigner(home), 'forger').index);
}
async function failure(out: string, suspect: string): Promise<EvidenceError> {
  const err = await verifyEvidence(out, { ...pinned(), suspect }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidenceError);
  return err as EvidenceError;
}

beforeAll(async () => {
  initHome(homeDir);
  home = openHome(homeDir);
  const h = { dir: homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey };
  writeFileSync(original, await convertTfjsToOnnx(FIXTURE));
  const seed = parseSignerKey(home.readOwnerSignerKey()).seed;
  const s = await embedWatermark({ home: h, ownerSeed: seed, model: original, out: marked, trainingFree: true, scheme: 'weight', passphrase: PASS, bits: 256 });
  const trigger = { n: 100, kind: 'abstract-patterns/v1', height: 28, width: 28, channels: 1, classes: 10 };
  const t = await commitWithSecret({ home: h, ownerSeed: seed, model: s.output.id as ModelId, scheme: 'trigger', parameters: { trigger }, passphrase: PASS, actor: 'test' });
  home.ledger.checkpoint(); // seals both commitments before the suspect is examined
  const w = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: s.ledger.committed, suspect: { path: marked } });
  expect(w.record.weight!.matches).toBe(256);
  weightPayload = home.ledger.get(w.index).entry.payload as JsonObject;
  const b = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: t.index, suspect: { path: marked } });
  expect(b.record.method).toBe('black-box');
  triggerPayload = home.ledger.get(b.index).entry.payload as JsonObject;
  weightOut = await exportFor(w.index);
  triggerOut = await exportFor(b.index);
}, 60_000);
afterAll(() => home?.close());

describe('evidence verify --suspect re-runs the extraction', () => {
  it('white-box: the same file gives the recorded counts and p-values, checked against a naive binomial tail', async () => {
    const r = await verifyEvidence(weightOut, { ...pinned(), suspect: marked });
    const x = r.reExtraction!;
    expect(x.format).toBe('onnx');
    expect(x.compared.every((c) => c.agrees)).toBe(true);
    const get = (q: string) => x.compared.find((c) => c.mark === 'weight' && c.quantity === q)!;
    expect(get('matches')).toMatchObject({ recorded: 256, recomputed: 256, rule: 'exact' });
    expect(get('candidates').recomputed).toBe((weightPayload.weight as JsonObject).candidates);
    expect((get('pValue').recomputed as number) / naiveUpperTail(256, 256)).toBeCloseTo(1, 10);
    expect(x.compared.find((c) => c.mark === 'decision')).toMatchObject({ recorded: true, recomputed: true });
    expect(r.checks.join('\n')).toMatch(/re-extraction with the revealed secret: \d+ recorded number\(s\) recomputed and equal/);
  });

  it('black-box: the trigger set derived from the revealed root is queried again through onnxruntime', async () => {
    const r = await verifyEvidence(triggerOut, { ...pinned(), suspect: marked });
    const x = r.reExtraction!;
    expect(x.classifier).toMatch(/onnxruntime-node/);
    const matches = x.compared.find((c) => c.mark === 'trigger' && c.quantity === 'matches')!;
    expect(matches.recomputed).toBe((triggerPayload.trigger as JsonObject).matches);
    expect(x.compared.filter((c) => c.mark === 'trigger').map((c) => c.quantity)).toEqual(['n', 'classes', 'matches', 'nullSource', 'chanceRate', 'pValue']);
    expect(x.compared.every((c) => c.agrees)).toBe(true);
  });

  it('safetensors (tensors renamed by a thief): the same candidate search finds the same tensor and numbers', async () => {
    const thief = join(dir, 'thief.safetensors');
    const { tensors } = await readModelTensors(marked);
    await writeSafetensorsFile(thief, tensors.map((t, i) => ({ ...t, name: `blocks.${i}.w` })));
    const v = await verifySuspect({ home: { dir: homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, signer: ownerRecordSigner(home), passphrase: PASS, commitment: (weightPayload.commitment as JsonObject).index as number, suspect: { path: thief } });
    const r = await verifyEvidence(await exportFor(v.index), { ...pinned(), suspect: thief });
    expect(r.reExtraction!.format).toBe('safetensors');
    expect(r.reExtraction!.compared.find((c) => c.quantity === 'tensor')).toMatchObject({ recomputed: v.record.weight!.tensor, agrees: true });
    expect(r.reExtraction!.compared.find((c) => c.quantity === 'matches')!.recomputed).toBe(256);
  });

  it('another file (the unmarked original) fails on the model digest; a renamed copy is the same model (one model, one id)', async () => {
    expect((await failure(weightOut, original)).message).toMatch(/suspect file's SHA-256 model digest [0-9a-f]{64} is not the recorded/);
    const renamed = join(dir, 'renamed.onnx');
    copyFileSync(marked, renamed);
    await expect(verifyEvidence(weightOut, { ...pinned(), suspect: renamed })).resolves.toMatchObject({ reExtraction: expect.anything() });
  });

  it('a forged record with both keys passes every signature and proof, and re-extraction names the numbers that differ', async () => {
    const forged = await forge(weightPayload, (p) => {
      p.weight.matches = 250;
      p.weight.ber = 6 / 256;
    });
    await expect(verifyEvidence(forged, pinned())).resolves.toMatchObject({ verification: { weight: { matches: 250 } } });
    const e = await failure(forged, marked);
    expect(e.code).toBe('EVIDENCE_MISMATCH');
    expect(e.message).toMatch(/weight matches recorded 250, recomputed 256; weight ber recorded/);
    expect(e.message).not.toMatch(/pValue/); // left as recorded, so it still agrees

    const p = await forge(triggerPayload, (q) => (q.trigger.pValue = q.trigger.pValue * (1 + 1e-6)));
    expect((await failure(p, marked)).message).toMatch(/^re-extraction disagrees with the record: trigger pValue recorded [\d.e-]+, recomputed [\d.e-]+$/);

    const d = await forge(weightPayload, (q) => (q.owned = false));
    expect((await failure(d, marked)).message).toMatch(/decision owned recorded false, recomputed true/);
  });

  it('a record changed inside the bundle and re-signed with the owner key alone fails on the log proofs first', async () => {
    const env = JSON.parse(readFileSync(join(weightOut, 'evidence.json'), 'utf8')) as DsseEnvelope;
    const stmt = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { predicate: { entries: { bytes: string }[] } };
    const text = (e: { bytes: string }) => Buffer.from(e.bytes, 'base64').toString();
    const i = stmt.predicate.entries.findIndex((e) => text(e).includes('"matches":256'));
    expect(i).toBeGreaterThanOrEqual(0);
    const e = stmt.predicate.entries[i]!;
    e.bytes = Buffer.from(text(e).replace('"matches":256', '"matches":255')).toString('base64');
    const owner = parseSignerKey(home.readOwnerSignerKey());
    const signed = signEnvelope(env.payloadType, canonicalJsonBytes(stmt as never), [{ keyid: dsseKeyId(owner), seed: owner.seed }]);
    const out = join(dir, 'resigned');
    cpSync(weightOut, out, { recursive: true });
    writeFileSync(join(out, 'evidence.json'), formatBundleJson(signed));
    const err = await failure(out, marked);
    expect(err.code).toBe('EVIDENCE_VERIFY_FAILED');
    expect(err.message).toMatch(/inclusion proof does not lead to the checkpoint root/);
  });

  it('the CLI prints each comparison and exits 1 with EVIDENCE_MISMATCH on a forged record', async () => {
    const keys = ['--owner-key', home.ownerVerifierKey, '--pubkey', home.ledger.verifierKey];
    const ok = hallmark(['evidence', 'verify', weightOut, ...keys, '--suspect', marked]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/re-extraction on the suspect file \(onnx\):\n\s+ok {2}weight bits: recorded 256, recomputed 256\n\s+ok {2}weight matches: recorded 256, recomputed 256/);
    const forged = await forge(weightPayload, (p) => (p.weight.matches = 200));
    const bad = hallmark(['evidence', 'verify', forged, ...keys, '--suspect', marked]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^hallmark: EVIDENCE_MISMATCH: re-extraction disagrees with the record: weight matches recorded 200, recomputed 256/);
  }, 30_000);
});
