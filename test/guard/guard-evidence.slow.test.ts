// Evidence for guard marks (issue 12), the owned direction, end to end: the thief's 200 answers
// (about 50 marks among them) fine-tune the fixture's TF.js model, which learns the wrong labels.
// verify records the claim, `evidence export` (the CLI) reveals the thief's set only and says so,
// and `evidence verify --suspect` (the CLI) re-queries the student; the p-value is recomputed here
// a third way (exact BigInt binomials). Slow: the fine-tuning and two CLI processes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAnyEvidence, type GuardEvidenceResult } from '../../src/evidence/index.js';
import { REPO } from '../helpers/paths.js';
import { setUpGuardEvidence, type GuardEvidenceSetup } from './evidence-setup.js';
import { PASS } from './helpers.js';

let s: GuardEvidenceSetup;
beforeAll(async () => {
  s = await setUpGuardEvidence({ student: true });
}, 300_000);
afterAll(async () => {
  await s?.g.close();
});

/** P[X >= m], X ~ Binomial(n, 1/9), from exact integer binomials (a third implementation). */
function tailNinth(n: number, m: number): number {
  const choose = (k: number) => {
    let x = 1n;
    for (let i = 1; i <= k; i++) x = (x * BigInt(n - k + i)) / BigInt(i);
    return x;
  };
  let num = 0n;
  for (let k = m; k <= n; k++) num += choose(k) * 8n ** BigInt(n - k);
  return ratio(num, 9n ** BigInt(n));
}

/**
 * num / den as a double, from a quotient of 64 significant bits. (A fixed scale of 10^40 truncated
 * p-values near 1e-39 to a few digits: a student that learnt 40-odd marks failed this test.)
 */
function ratio(num: bigint, den: bigint): number {
  if (num === 0n) return 0;
  const shift = den.toString(2).length - num.toString(2).length + 64;
  const q = shift >= 0 ? (num << BigInt(shift)) / den : num / (den << BigInt(-shift));
  const half = Math.trunc(shift / 2);
  return Number(q) * 2 ** -half * 2 ** -(shift - half);
}

describe('guard-mark evidence: a student trained on the answers', () => {
  it('export -> verify -> verify --suspect: owned, every number recomputed', async () => {
    const r = (await verifyAnyEvidence(s.out, { ...s.pinned(), suspect: s.suspect })) as GuardEvidenceResult;
    const rec = r.verification.guard.clients.find((c) => c.client === s.thief.id)!;
    expect(rec.matches).toBeGreaterThan(rec.n / 2); // the student learnt the wrong labels
    expect(r.verification.owned).toBe(true);
    const c = r.clients[0]!;
    expect(c.client).toBe(s.thief.id);
    expect(c.requeried?.matches).toBe(rec.matches);
    expect(rec.chanceRate).toBeCloseTo(1 / 9, 12);
    const p = tailNinth(rec.n, rec.matches);
    if (p > 1e-300) expect(Math.abs(p - c.recomputedPValue) / p).toBeLessThan(1e-9);
    expect(r.recomputedFamilyPValue).toBeLessThan(1e-6);
    console.log(`student: ${rec.matches}/${rec.n} marks reproduced, chance ${rec.chanceRate.toFixed(4)}, p = ${c.recomputedPValue.toExponential(3)}, family p = ${r.recomputedFamilyPValue.toExponential(3)} over ${r.verification.guard.tests} clients`);
  });

  it('the CLI: export names what it reveals, verify --suspect re-queries', () => {
    const env = { ...process.env, HALLMARK_PASSPHRASE: PASS };
    const cli = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], { env, encoding: 'utf8' });
    const dir = join(s.root, 'cli');
    const e = cli(['evidence', 'export', '--verification', String(s.vIndex), '--out', dir, '--home', s.g.dir]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toContain(`REVEALED: the watermark set of client(s) ${s.thief.id} `);
    expect(e.stdout).not.toContain(s.other.id);
    const v = cli(['evidence', 'verify', dir, '--owner-key', s.g.home.ownerVerifierKey, '--pubkey', s.g.home.ledger.verifierKey, '--suspect', s.suspect]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/re-queried: \d+\/\d+/);
    expect(v.stdout).toMatch(/decision recorded: OWNED/);
    const bad = cli(['evidence', 'export', '--verification', String(s.vIndex), '--out', join(s.root, 'cli2'), '--home', s.g.dir, '--guard-client', '0123456789ab']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/EVIDENCE_INVALID/);
  });
});
