// Provenance bundles over a real ledger: they verify with nothing but the log key, and any
// single-byte change, dropped entry, swapped proof or replay for another model is refused with
// a message that names what failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvidenceError, buildProvenanceBundle, formatBundleJson, verifyProvenanceBundle, formatProvenance, type ProvenanceBundle } from '../../src/evidence/index.js';
import { generateNoteKey } from '../../ledger/index.js';
import { makeFixture, type Fixture } from './fixture.js';

let fx: Fixture;
let bundle: ProvenanceBundle;
let text: string;
beforeAll(async () => {
  fx = await makeFixture();
  bundle = buildProvenanceBundle({ ledger: fx.home.ledger, modelId: fx.marked, ownerSignerKey: fx.home.readOwnerSignerKey() });
  text = formatBundleJson(bundle);
});
afterAll(() => fx?.home.close());

const logKey = () => fx.home.ledger.verifierKey;
const reject = async (t: string, re: RegExp, opts: { ownerKey?: string } = {}) => {
  const err = await verifyProvenanceBundle(t, { logKey: logKey(), ...opts }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EvidenceError);
  expect((err as Error).message).toMatch(re);
};
const edit = (f: (b: ProvenanceBundle) => void) => {
  const b = JSON.parse(text) as ProvenanceBundle;
  f(b);
  return formatBundleJson(b);
};

describe('provenance bundle', () => {
  it('holds the lineage (model, base, dataset, derivation, commitment) and nothing unrelated', async () => {
    const r = await verifyProvenanceBundle(text, { logKey: logKey(), ownerKey: fx.home.ownerVerifierKey });
    expect([...r.closure.models.keys()].sort()).toEqual([fx.base, fx.marked].sort());
    expect(r.closure.datasets.size).toBe(1);
    expect(r.closure.derivations.map((d) => d.record.operation)).toEqual(['watermark-embed']);
    expect(r.closure.commitments.map((c) => c.index)).toEqual([fx.commitmentIndex]);
    expect(bundle.entries.map((e) => e.index)).not.toContain(fx.verificationIndex);
    expect(formatProvenance(r)).toMatch(/watermark-embed/);
    const stmt = JSON.parse(Buffer.from(bundle.statement.payload, 'base64').toString()) as Record<string, unknown>;
    expect(stmt._type).toBe('https://in-toto.io/Statement/v1');
    expect(stmt.predicateType).toBe('https://slsa.dev/provenance/v1');
  });

  it('refuses another log key, another owner key, and a bundle for another model replayed', async () => {
    await expect(verifyProvenanceBundle(text, { logKey: generateNoteKey('x').verifierKey })).rejects.toThrow(/different log key/);
    await reject(text, /different owner key/, { ownerKey: generateNoteKey('y').verifierKey });
    await reject(edit((b) => (b.model = fx.base)), /not part of the lineage/);
    const otherBundle = formatBundleJson(buildProvenanceBundle({ ledger: fx.home.ledger, modelId: fx.base, ownerSignerKey: fx.home.readOwnerSignerKey() }));
    await reject(edit((b) => (b.statement = (JSON.parse(otherBundle) as ProvenanceBundle).statement)), /statement does not match/);
  });

  it('refuses a dropped entry, swapped proofs, a dropped chain link and an older checkpoint', async () => {
    for (let i = 0; i < bundle.entries.length; i++) await reject(edit((b) => b.entries.splice(i, 1)), /registration is not in the bundle|has no registration|statement does not match|not part of the lineage/);
    await reject(edit((b) => ([b.entries[0]!.proof, b.entries[1]!.proof] = [b.entries[1]!.proof, b.entries[0]!.proof])), /entry \d+: inclusion proof/);
    await reject(edit((b) => ([b.entries[0], b.entries[1]] = [b.entries[1]!, b.entries[0]!])), /increasing index order/);
    const old = fx.home.ledger.checkpoints()[0]!;
    await reject(edit((b) => (b.checkpoint = old.note)), /not covered by the checkpoint|inclusion proof/);
  });

  it('refuses every single-byte change of the file (every position)', async () => {
    const bytes = Buffer.from(text);
    const stride = Math.max(1, Math.floor(bytes.length / 40_000)); // every byte for bundles up to 40 kB
    const seen = new Map<string, number>();
    for (let i = 0; i < bytes.length; i += stride) {
      const t = Buffer.from(bytes);
      t[i]! ^= i % 2 === 0 ? 0x01 : 0x20;
      const err = await verifyProvenanceBundle(t.toString('latin1') === t.toString() ? t.toString() : t.toString('latin1'), { logKey: logKey() }).then(() => undefined, (e: unknown) => e);
      expect(err, `flip at byte ${i} was accepted`).toBeInstanceOf(EvidenceError);
      const k = (err as Error).message.replace(/\d+/g, 'N').slice(0, 40);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    // The failures name different checks, not one catch-all.
    expect(seen.size).toBeGreaterThan(5);
  }, 60_000);
});
