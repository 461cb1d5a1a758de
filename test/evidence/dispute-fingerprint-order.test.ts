// How `hallmark dispute` dates a fingerprint claim against the other party (dispute-fingerprints.ts),
// branch by branch, on verified-bundle results shaped as evidence verify returns them. The slow
// suite (test/fingerprint/dispute.slow.test.ts) runs the cross-log branch end to end with real
// TSA tokens; here every branch runs, including one log holding both claims, where entry order
// decides and no token is needed.
import { describe, expect, it } from 'vitest';
import { fingerprintVerdict, weighFingerprint } from '../../src/evidence/dispute-fingerprints.js';

const SUSPECT = 'e'.repeat(64);
const suspectId = `model:sha256:${SUSPECT}`;
const modelA = `model:sha256:${'a'.repeat(64)}`;
const modelB = `model:sha256:${'b'.repeat(64)}`;

interface Token { size: number; genTime: string; signer: string; chainVerified: boolean }
type Entry = { index: number; entry: { type: string; payload: Record<string, unknown> } };

function bundle(o: { logKey: string; proven: Entry[]; fingerprintAt?: number; p?: number; timestamps?: Token[]; suspect?: string }) {
  return {
    logKey: o.logKey,
    proven: o.proven,
    timestamps: o.timestamps ?? [],
    verification: { suspect: { kind: 'file', descriptor: { digest: { sha256: o.suspect ?? SUSPECT } } } },
    ...(o.fingerprintAt !== undefined ? { fingerprint: { commitmentIndex: o.fingerprintAt, sealedBy: o.fingerprintAt + 1, matches: 250, n: 300, chanceRate: 0.65, recomputedPValue: o.p ?? 1e-9 } } : {}),
  };
}

const party = (label: 'A' | 'B', committedModel: string, evidence: ReturnType<typeof bundle>, suspect = suspectId) =>
  ({ label, suspect, committedModel, markedModel: committedModel, evidence }) as unknown as Parameters<typeof weighFingerprint>[0];

const fingerprinted = (index: number, model: string): Entry => ({ index, entry: { type: 'fingerprint.committed', payload: { model } } });
const registered = (index: number, model: string): Entry => ({ index, entry: { type: 'model.registered', payload: { id: model } } });
const verified = (index: number): Entry => ({ index, entry: { type: 'verification.recorded', payload: { suspect: { descriptor: { digest: { sha256: SUSPECT } } } } } });

describe('dispute: dating a fingerprint claim', () => {
  it('one log holds both claims: the fingerprint committed before the other party\'s first entry is credited, by entry order alone', () => {
    const a = party('A', modelA, bundle({ logKey: 'log-1', proven: [fingerprinted(3, modelA), verified(40)], fingerprintAt: 3 }));
    const b = party('B', modelB, bundle({ logKey: 'log-1', proven: [registered(10, modelB), verified(41)] }));
    const w = weighFingerprint(a, b, 1e-6)!;
    expect(w).toMatchObject({ label: 'A', credited: true, beforeOther: true, committedAt: { kind: 'log', index: 3 }, otherFirstAppearance: { kind: 'log', index: 10 } });
    expect(w.reason).toMatch(/CREDITED: both claims are in one log: fingerprint entry 3 comes before B's first appearance at entry 10, model.registered/);
    expect(fingerprintVerdict([w]).by).toBe('A');
  });

  it('one log, fingerprint committed after the other party appeared: not credited (crafted once the model was known)', () => {
    const a = party('A', modelA, bundle({ logKey: 'log-1', proven: [fingerprinted(12, modelA), verified(40)], fingerprintAt: 12 }));
    const b = party('B', modelB, bundle({ logKey: 'log-1', proven: [registered(10, modelB)] }));
    const w = weighFingerprint(a, b, 1e-6)!;
    expect(w).toMatchObject({ credited: false, beforeOther: false });
    expect(w.reason).toMatch(/fingerprint entry 12 comes after B's first appearance at entry 10/);
    expect(fingerprintVerdict([w]).by).toBeNull();
  });

  it('one log, earlier but not significant: not credited, and the line says the suspect does not answer it', () => {
    const a = party('A', modelA, bundle({ logKey: 'log-1', proven: [fingerprinted(3, modelA)], fingerprintAt: 3, p: 0.2 }));
    const b = party('B', modelB, bundle({ logKey: 'log-1', proven: [registered(10, modelB)] }));
    const w = weighFingerprint(a, b, 1e-6)!;
    expect(w).toMatchObject({ credited: false, beforeOther: true, significant: false });
    expect(w.reason).toMatch(/but the suspect does not answer it significantly/);
  });

  it('two logs: entry numbers compare to nothing; without RFC 3161 tokens nothing is credited, even entry 0 against entry 10^6', () => {
    const a = party('A', modelA, bundle({ logKey: 'log-A', proven: [fingerprinted(0, modelA)], fingerprintAt: 0 }));
    const b = party('B', modelB, bundle({ logKey: 'log-B', proven: [registered(1_000_000, modelB)] }));
    const w = weighFingerprint(a, b, 1e-6)!;
    expect(w.credited).toBe(false);
    expect(w.reason).toMatch(/no RFC 3161 token dates the fingerprint commitment/);
  });

  it('two logs: the fingerprint\'s own token must chain to a CA the verifier gave; the other party\'s date may be any valid token', () => {
    const tokenA = (chainVerified: boolean): Token => ({ size: 5, genTime: '2026-01-01T00:00:00Z', signer: 'CN=TSA A', chainVerified });
    const b = party('B', modelB, bundle({ logKey: 'log-B', proven: [registered(2, modelB)], timestamps: [{ size: 3, genTime: '2026-06-01T00:00:00Z', signer: 'CN=TSA B', chainVerified: false }] }));
    const unchecked = weighFingerprint(party('A', modelA, bundle({ logKey: 'log-A', proven: [fingerprinted(4, modelA)], fingerprintAt: 4, timestamps: [tokenA(false)] })), b, 1e-6)!;
    expect(unchecked.credited).toBe(false);
    expect(unchecked.reason).toMatch(/was not checked against a trusted CA: pass --tsa-ca/);
    const checked = weighFingerprint(party('A', modelA, bundle({ logKey: 'log-A', proven: [fingerprinted(4, modelA)], fingerprintAt: 4, timestamps: [tokenA(true)] })), b, 1e-6)!;
    expect(checked).toMatchObject({ credited: true, committedAt: { kind: 'rfc3161', time: '2026-01-01T00:00:00Z' }, otherFirstAppearance: { kind: 'rfc3161', time: '2026-06-01T00:00:00Z' } });
    // The same token dated after B's first appearance: after the fact.
    const late = weighFingerprint(party('A', modelA, bundle({ logKey: 'log-A', proven: [fingerprinted(4, modelA)], fingerprintAt: 4, timestamps: [{ ...tokenA(true), genTime: '2026-07-01T00:00:00Z' }] })), b, 1e-6)!;
    expect(late.credited).toBe(false);
    expect(late.reason).toMatch(/AFTER THE FACT/);
  });

  it('claims about different suspects are not weighed against each other; two credited claims separate nothing', () => {
    const a = party('A', modelA, bundle({ logKey: 'log-1', proven: [fingerprinted(3, modelA)], fingerprintAt: 3 }));
    const other = party('B', modelB, bundle({ logKey: 'log-1', proven: [registered(10, modelB)] }), `model:sha256:${'f'.repeat(64)}`);
    expect(weighFingerprint(a, other, 1e-6)!.reason).toMatch(/the claims concern different suspects/);
    const both = [{ label: 'A', credited: true }, { label: 'B', credited: true }] as Parameters<typeof fingerprintVerdict>[0];
    expect(fingerprintVerdict(both)).toMatchObject({ by: null, reason: expect.stringMatching(/both fingerprints are credited/) });
  });
});
