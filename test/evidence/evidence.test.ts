// Ownership evidence over a real ledger with RFC 3161 tokens from openssl on loopback: export,
// offline verification, and refusal of every single-byte change to any of the three files, a
// dropped entry, swapped proofs, another model's evidence, a wrong opening or key.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey } from '../../ledger/index.js';
import { EvidenceError, exportEvidence, formatBundleJson, verifyEvidence, type DsseEnvelope } from '../../src/evidence/index.js';
import { readCertificates, stampCheckpoint } from '../../src/tsa/index.js';
import { startTsaServer, type TsaServer } from '../helpers/tsa-server.js';
import { listTimestamps } from '../../src/tsa/index.js';
import { makeFixture, type Fixture } from './fixture.js';

let fx: Fixture;
let tsa: TsaServer;
let out: string;
const ca = () => readCertificates(readFileSync(tsa.pki.caCert), 'ca');

beforeAll(async () => {
  tsa = await startTsaServer();
  fx = await makeFixture();
  await stampCheckpoint(fx.home.ledger, fx.dir, tsa.url, { caCerts: ca() });
  out = join(mkdtempSync(join(tmpdir(), 'hallmark-evout-')), 'evidence');
  await exportEvidence({ ledger: fx.home.ledger, verificationIndex: fx.verificationIndex, ownerSignerKey: fx.home.readOwnerSignerKey(), opening: fx.opening, timestamps: listTimestamps(fx.dir), outDir: out });
}, 120_000);
afterAll(async () => {
  fx?.home.close();
  await tsa?.close();
});

const pinned = () => ({ ownerKey: fx.home.ownerVerifierKey, logKey: fx.home.ledger.verifierKey });
function copyWith(file: string, bytes: Buffer | string): string {
  const d = mkdtempSync(join(tmpdir(), 'hallmark-evt-'));
  cpSync(out, d, { recursive: true });
  writeFileSync(join(d, file), bytes);
  return d;
}
async function rejects(dir: string, re: RegExp, opts = {}): Promise<void> {
  const err = await verifyEvidence(dir, { ...pinned(), ...opts }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidenceError);
  expect((err as Error).message).toMatch(re);
}
/** Re-signs a modified statement with the real owner key: what an insider with the key could do. */
function resign(mutate: (p: Record<string, any>) => void): string {
  const env = JSON.parse(readFileSync(join(out, 'evidence.json'), 'utf8')) as DsseEnvelope;
  const stmt = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as Record<string, any>;
  mutate(stmt.predicate);
  return JSON.stringify(stmt);
}

describe('ownership evidence', () => {
  it('writes the three files and verifies them with pinned keys and the TSA CA', async () => {
    expect(readdirSync(out).sort()).toEqual(['VERIFY.md', 'evidence.json', 'report.pdf']);
    const r = await verifyEvidence(out, { ...pinned(), tsaCaCerts: ca() });
    expect(r.verification.owned).toBe(true);
    expect(r.commitmentIndex).toBe(fx.commitmentIndex);
    expect(r.commitmentCheckpointSize).toBeLessThanOrEqual(fx.verificationIndex);
    expect(r.timestamps.length).toBeGreaterThan(0);
    expect(r.timestamps[0]!.chainVerified).toBe(true);
    expect(r.checks.join('\n')).toMatch(/commitment opening and revealed secret/);
    const unpinned = await verifyEvidence(out);
    expect(unpinned.pinned).toEqual({ owner: false, log: false });
  });

  it('refuses wrong keys, a wrong TSA CA, and a suspect file with another digest', async () => {
    await rejects(out, /no signature by|does not verify/, { ownerKey: generateNoteKey('hallmark.local/owner/x').verifierKey });
    await rejects(out, /different log key/, { logKey: generateNoteKey('x').verifierKey });
    const other = (await import('../helpers/tsa-server.js')).makeTestPki('Other');
    await rejects(out, /timestamp 1.*does not chain to the given CA/, { tsaCaCerts: readCertificates(readFileSync(other.caCert), 'ca') });
    const f = join(mkdtempSync(join(tmpdir(), 'hallmark-s-')), 'stolen.onnx');
    writeFileSync(f, 'not the stolen model');
    await rejects(out, /suspect file's SHA-256/, { suspect: f });
  });

  it('the suspect path checks the model digest first (re-extraction itself: re-extract.test.ts)', async () => {
    await expect(verifyEvidence(out, { ...pinned(), suspect: join(out, 'VERIFY.md') })).rejects.toThrow(/SHA-256/);
  });

  it('refuses single-byte changes of evidence.json, report.pdf and VERIFY.md (dense samples over all positions)', async () => {
    const reasons = new Map<string, number>();
    // About 4000 flips for evidence.json (every position when it is under 4 kB; ~2.5 ms each) and
    // 300 for each of the others: the whole run stays near 15 s.
    for (const [file, flips] of [['evidence.json', 4000], ['VERIFY.md', 300], ['report.pdf', 300]] as const) {
      const orig = readFileSync(join(out, file));
      const stride = Math.max(1, Math.ceil(orig.length / flips));
      const d = mkdtempSync(join(tmpdir(), 'hallmark-evf-'));
      cpSync(out, d, { recursive: true });
      for (let i = 0; i < orig.length; i += stride) {
        const t = Buffer.from(orig);
        t[i]! ^= i % 3 === 0 ? 0x01 : i % 3 === 1 ? 0x20 : 0x80;
        writeFileSync(join(d, file), t);
        const err = await verifyEvidence(d, pinned()).then(() => undefined, (e: unknown) => e);
        expect(err, `${file}: flip at byte ${i} was accepted`).toBeInstanceOf(EvidenceError);
        const k = (err as Error).message.replace(/\d+/g, 'N').slice(0, 30);
        reasons.set(k, (reasons.get(k) ?? 0) + 1);
      }
      writeFileSync(join(d, file), orig);
    }
    expect(reasons.size).toBeGreaterThan(2);
  }, 120_000);

  it('refuses a statement with a dropped entry, swapped proofs or another model, even when re-signed by the owner', async () => {
    const { signEnvelope, parseSignerKey, dsseKeyId } = await import('../../src/evidence/index.js');
    const owner = parseSignerKey(fx.home.readOwnerSignerKey());
    const { canonicalJsonBytes } = await import('../../ledger/index.js');
    const write = (mutate: (p: Record<string, any>) => void) => {
      const stmt = JSON.parse(resign(mutate)) as never;
      const env = signEnvelope('application/vnd.in-toto+json', canonicalJsonBytes(stmt), [{ keyid: dsseKeyId(owner), seed: owner.seed }]);
      return copyWith('evidence.json', formatBundleJson(env));
    };
    await rejects(write((p) => p.entries.splice(0, 1)), /registration is not in the bundle|not part of the lineage|has no registration/);
    await rejects(write((p) => p.entries.splice(p.entries.length - 1, 1)), /not among the proven entries/);
    await rejects(write((p) => ([p.entries[0].proof, p.entries[1].proof] = [p.entries[1].proof, p.entries[0].proof])), /inclusion proof/);
    await rejects(write((p) => (p.commitment.opening.salt = Buffer.alloc(32).toString('base64'))), /commitment opening: .*do not hash to the committed digest/);
    await rejects(write((p) => (p.commitment.opening.root.signature = p.commitment.opening.root.signature.replace(/^./, (ch: string) => (ch === 'A' ? 'B' : 'A')))), /commitment opening/);
    await rejects(write((p) => ((p.commitmentCheckpoint = p.checkpoint), (p.consistency = { from: p.consistency.to, to: p.consistency.to, proof: [] }))), /not sealed before the verification/);
    await rejects(write((p) => (p.timestamps[0].token = p.timestamps[0].token.slice(0, -8) + 'AAAAAAA=')), /timestamp 1/);
    // Replay: evidence of another ledger/model under this bundle's keys.
    const fx2 = await makeFixture('b');
    const out2 = join(mkdtempSync(join(tmpdir(), 'hallmark-ev2-')), 'e');
    await exportEvidence({ ledger: fx2.home.ledger, verificationIndex: fx2.verificationIndex, ownerSignerKey: fx2.home.readOwnerSignerKey(), opening: fx2.opening, outDir: out2 });
    await expect(verifyEvidence(out2, pinned())).rejects.toThrow(/no signature by|does not verify|different/);
    fx2.home.close();
  });

  it('report.pdf renders to PNG pages with poppler', () => {
    if (!existsSync('/usr/bin/pdftoppm')) return;
    const png = join(mkdtempSync(join(tmpdir(), 'hallmark-png-')), 'page');
    execFileSync('/usr/bin/pdftoppm', ['-png', '-r', '60', join(out, 'report.pdf'), png]);
    expect(readdirSync(join(png, '..')).filter((f) => f.endsWith('.png')).length).toBe(3);
  });
});
