// Issue 10, findings 1-3, performed through the built CLI (dist/) and the HTTP app, as a user and
// as an insider with an ordinary key would: each attack must now fail safely, the honest path must work.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, type JsonObject } from '../../ledger/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { openHome } from '../../src/home/index.js';
import { commitWithSecret } from '../../src/embed/commit-secret.js';
import type { ModelId } from '../../src/lineage/index.js';
import { appendRecord, parseSignerKey, verificationRecorded } from '../../src/records/index.js';
import { errorOf, makeTestApi, type TestApi } from '../api/helpers.js';
import { hallmark } from '../helpers/cli.js';
import { FIXTURE } from '../verify/helpers.js';
import { makeFixture } from '../evidence/fixture.js';

const PASS = 'findings passphrase';
const dir = mkdtempSync(join(tmpdir(), 'hm-findings-'));
const home = join(dir, 'home');
const env = { HALLMARK_PASSPHRASE: PASS };
const onnx = join(dir, 'fixture.onnx');
const marked = join(dir, 'marked.onnx');
const run = (args: string[]) => hallmark(args, { home, env, timeout: 300_000 });
const json = <T>(args: string[]): T => {
  const r = run([...args, '--json']);
  if (r.status !== 0) throw new Error(`hallmark ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

let verification: number;
let committedIndex: number;

beforeAll(async () => {
  writeFileSync(onnx, await convertTfjsToOnnx(FIXTURE));
}, 120_000);

describe('finding 2: the documented CLI flow ends in evidence that verifies, with no manual checkpoint', () => {
  it('init; embed; verify; evidence export; evidence verify', () => {
    expect(run(['init']).status).toBe(0);
    const e = run(['embed', onnx, '--out', marked, '--training-free', '--scheme', 'weight']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/sealed {7}checkpoint of size \d+ signed before the model was written/);
    const v = json<{ index: number; decision: { owned: boolean }; mark: { commitmentIndex: number }; problems: unknown[] }>(['verify', marked]);
    expect(v.decision.owned).toBe(true);
    verification = v.index;
    committedIndex = v.mark.commitmentIndex;
    const out = join(dir, 'evidence');
    const x = run(['evidence', 'export', '--verification', String(verification), '--out', out]);
    expect(x.status, x.stderr).toBe(0);
    const ev = run(['evidence', 'verify', out]);
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/decision recorded: OWNED/);
    // Without --suspect it says plainly that the numbers are a signed record, and who signed.
    const ownerKey = readFileSync(join(home, 'config.json'), 'utf8').match(/"ownerVerifierKey": "([^"]+)"/)![1]!;
    expect(ev.stdout).toContain(`these numbers are a signed record, not a re-check: verification entry ${verification} as signed by the owner's key ${ownerKey}`);
    const pdf = readFileSync(join(out, 'report.pdf')).toString('latin1');
    expect(pdf.length).toBeGreaterThan(1000);
    const withSuspect = run(['evidence', 'verify', out, '--suspect', marked]);
    expect(withSuspect.status, withSuspect.stderr).toBe(0);
    expect(withSuspect.stdout).not.toMatch(/not a re-check/);
    expect(run(['ledger', 'verify']).status).toBe(0);
  }, 600_000);

  it('an unsealed commitment: export refuses, says exactly what to run, and doing that works', async () => {
    const fx = await makeFixture('unsealed', { sealed: false });
    const uenv = { HALLMARK_HOME: fx.dir, HALLMARK_PASSPHRASE: fx.passphrase };
    const out = join(dir, 'unsealed');
    const x = hallmark(['evidence', 'export', '--verification', String(fx.verificationIndex), '--out', out], { env: uenv });
    expect(x.status).toBe(2);
    expect(x.stderr).toMatch(/^hallmark: EVIDENCE_UNSEALED: commitment entry \d+ was not sealed .*run "hallmark ledger checkpoint", then "hallmark verify <suspect>" again, and export the new verification.recorded entry/);
    expect(existsSync(join(out, 'evidence.json'))).toBe(false);
    expect(hallmark(['ledger', 'checkpoint'], { env: uenv }).status).toBe(0);
    // What `hallmark verify` appends, signed by the owner (the fixture's numbers are hand-made).
    const { signature: _s, ...again } = fx.home.ledger.get(fx.verificationIndex).entry.payload as Record<string, unknown>;
    const v2 = appendRecord(fx.home.ledger, verificationRecorded, again as JsonObject, parseSignerKey(fx.home.readOwnerSignerKey()), 'hallmark-verify');
    fx.home.close();
    const y = hallmark(['evidence', 'export', '--verification', String(v2.index), '--out', out], { env: uenv });
    expect(y.status, y.stderr).toBe(0);
    expect(hallmark(['evidence', 'verify', out]).status).toBe(0);
  }, 300_000);
});

describe('finding 1: keys that may append cannot write the records verification trusts', () => {
  it('hallmark ledger append refuses every protected type with RECORD_PROTECTED and writes nothing', () => {
    const payload = join(dir, 'payload.json');
    writeFileSync(payload, JSON.stringify({ schema: 'hallmark/verification.recorded/v1', owned: true }));
    const before = json<{ size?: number }>(['ledger', 'checkpoint']) as { size: number };
    for (const type of ['watermark.committed', 'verification.recorded', 'calibration.recorded', 'evidence.exported', 'api.key-created']) {
      const r = run(['ledger', 'append', '--type', type, '--payload', payload]);
      expect(r.status, type).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^hallmark: RECORD_PROTECTED: entry type "${type.replace('.', '\\.')}" is written only by hallmark's own`));
    }
    expect(json<{ size: number }>(['ledger', 'checkpoint']).size).toBe(before.size);
    expect(run(['ledger', 'append', '--type', 'note.added', '--payload', payload]).status).toBe(0);
  });

  it('junk and forged entries in the log: verify and export still work on the rest and name each bad entry by index', () => {
    const h = openHome(home, { passphrase: PASS });
    const junk = h.ledger.append({ type: 'watermark.committed', actor: 'key:engineer', payload: { junk: 'yes' } }).index;
    const intruder = parseSignerKey(generateNoteKey('hallmark.local/owner/intruder').signerKey);
    const { signature: _s, ...v } = h.ledger.get(verification).entry.payload as Record<string, unknown>;
    // A made-up OWNED record, unsigned, and one signed by a key that is not the owner's.
    const fakeUnsigned = h.ledger.append({ type: 'verification.recorded', actor: 'key:engineer', payload: v as JsonObject }).index;
    const fakeForeign = appendRecord(h.ledger, verificationRecorded, v as JsonObject, intruder, 'key:engineer').index;
    h.close();
    const r = json<{ decision: { owned: boolean }; problems: { index: number; code: string }[]; mark: { commitmentIndex: number } }>(['verify', marked]);
    expect(r.decision.owned).toBe(true);
    expect(r.mark.commitmentIndex).toBe(committedIndex);
    expect(r.problems).toEqual([expect.objectContaining({ index: junk, code: 'RECORD_INVALID' })]);
    for (const [index, code] of [[fakeUnsigned, 'RECORD_UNSIGNED'], [fakeForeign, 'RECORD_UNTRUSTED_SIGNER']] as const) {
      const x = run(['evidence', 'export', '--verification', String(index), '--out', join(dir, `fake-${index}`)]);
      expect(x.status).toBe(2);
      expect(x.stderr).toMatch(new RegExp(`^hallmark: EVIDENCE_INVALID: the verification record cannot go into evidence: entry ${index}: .*`));
      expect(x.stderr).toContain(code === 'RECORD_UNSIGNED' ? 'carries no signature' : 'must be signed by');
      expect(existsSync(join(dir, `fake-${index}`, 'evidence.json'))).toBe(false);
    }
    const ok = run(['evidence', 'export', '--verification', String(verification), '--out', join(dir, 'after-junk')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(run(['evidence', 'verify', join(dir, 'after-junk')]).status).toBe(0);
  }, 300_000);

  describe('over HTTP', () => {
    let t: TestApi;
    beforeAll(() => {
      t = makeTestApi();
    });
    afterAll(() => t?.dispose());

    it('POST /v1/ledger/entries refuses protected types for every role that may append (403 RECORD_PROTECTED), open types still work', async () => {
      const size = t.home.ledger.size();
      for (const role of ['admin', 'engineer'] as const) {
        for (const type of ['watermark.committed', 'verification.recorded', 'calibration.recorded', 'evidence.exported', 'api.job-submitted']) {
          const res = await t.req('/v1/ledger/entries', { role, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, payload: { schema: `hallmark/${type}/v1`, owned: true } }) });
          expect(res.status, `${role} ${type}`).toBe(403);
          expect((await errorOf(res)).code).toBe('RECORD_PROTECTED');
        }
      }
      expect(t.home.ledger.size()).toBe(size);
      const ok = await t.req('/v1/ledger/entries', { role: 'engineer', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'note.added', payload: { text: 'hello' } }) });
      expect(ok.status).toBe(201);
    });
  });
});

describe('finding 3: verify tests every live commitment, skips orphans, and corrects for the multiplicity', () => {
  it('an embed killed before it wrote its model leaves an orphan that verify skips; a second live mark counts in the p-value', async () => {
    // A training-free embed stages its output before it commits: one that cannot write appends nothing.
    const size = () => { const h = openHome(home, { passphrase: PASS }); try { return h.ledger.size(); } finally { h.close(); } };
    const before = size();
    const refused = run(['embed', onnx, '--out', join(marked, 'cannot.onnx'), '--training-free', '--scheme', 'weight']);
    expect(refused.status).not.toBe(0);
    expect(size()).toBe(before);
    // What a kill -9 between the commitment and the registration of the output leaves: a commitment alone.
    const h = openHome(home, { passphrase: PASS });
    try {
      const first = h.ledger.get(committedIndex).entry.payload as { model: string; parameters: JsonObject };
      await commitWithSecret({ home: { dir: home, ledger: h.ledger, ownerVerifierKey: h.ownerVerifierKey }, ownerSeed: parseSignerKey(h.readOwnerSignerKey()).seed, model: first.model as ModelId, scheme: 'weight', parameters: first.parameters, passphrase: PASS, actor: 'killed-embed' });
    } finally {
      h.close();
    }
    const r = json<{ decision: { owned: boolean; reason: string; tests: number }; mark: { commitmentIndex: number }; orphans: number[]; tried: { index: number }[]; record: { commitment: { index: number }; family?: unknown } }>(['verify', marked]);
    expect(r.decision.owned).toBe(true);
    expect(r.mark.commitmentIndex).toBe(committedIndex);
    expect(r.orphans).toHaveLength(1);
    expect(r.orphans[0]).toBeGreaterThan(committedIndex);
    expect(r.tried.map((t) => t.index)).toEqual([committedIndex]);
    expect(r.record.family).toBeUndefined();

    // A second, live mark on another copy: both are tried, the right one is named, m = 2.
    // Other parameters (bits), so the marked bytes differ: the same ones would be the same model.
    const second = run(['embed', onnx, '--out', join(dir, 'marked-2.onnx'), '--training-free', '--scheme', 'weight', '--bits', '72']);
    expect(second.status, second.stderr).toBe(0);
    const two = json<typeof r>(['verify', marked]);
    expect(two.tried).toHaveLength(2);
    expect(two.mark.commitmentIndex).toBe(committedIndex);
    expect(two.record.family).toEqual({ commitments: 2, tests: 2 });
    expect(two.decision.tests).toBe(2);
    expect(two.decision.reason).toMatch(/x 2 tests over 2 commitments \(Bonferroni\)/);
    // The same owner marking the same input twice derives the same secret (the root is the owner's
    // signature over the input id), so the second copy matches both commitments equally.
    const other = json<typeof r>(['verify', join(dir, 'marked-2.onnx')]);
    expect(other.decision.owned).toBe(true);
    expect(other.tried).toHaveLength(2);
  }, 600_000);
});
