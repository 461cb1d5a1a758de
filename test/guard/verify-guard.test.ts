// verify --guard-client against real suspects: the guard itself over HTTP (what a perfect
// extracted copy answers: every watermark label), and the owner's ONNX model run locally (a
// model never trained on the guard's answers: it gives the true labels). Plus the CLI end to end.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/formats/mnist.js';
import { guardChance, loadCommittedSets, verifyGuardMarks } from '../../src/guard/index.js';
import { decodeGuardCalibrated, RULE, SCHEMA } from '../../src/guard/record-guard-calibrated.js';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { openLocalClassifier, openRemoteClassifier } from '../../src/verify/index.js';
import { REPO } from '../helpers/paths.js';
import { anyVerificationRecorded, guardVerificationRecorded, readAnyVerificationRecord, readRecordAt, verificationRecorded } from '../../src/records/index.js';
import { fixtureOnnx, infer, openTestGuard, PASS } from './helpers.js';

const mnist = await loadMnist({ seed: 0 });
const img = (i: number, n = 1) => mnist.test.images.slice(i * 784, (i + n) * 784);

function runCli(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}

describe('verify --guard-client', () => {
  it('a copy that answers the watermark labels is owned; the owner model itself is not; only committed marks count', { timeout: 300_000 }, async () => {
    const g = await openTestGuard({ markRate: 0.25 });
    const server = await new Promise<ReturnType<typeof serve>>((r) => {
      const s = serve({ fetch: g.app.fetch, port: 0, hostname: '127.0.0.1' }, () => r(s));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const thief = g.client('thief');
      const other = g.client('other');
      await infer(g.app, thief.secret, img(0, 200), 200, g.runner.inputName);
      await infer(g.app, other.secret, img(200, 100), 100, g.runner.inputName);
      await g.service.flush();
      await infer(g.app, thief.secret, img(300, 40), 40, g.runner.inputName); // after the commitment
      const sets = await loadCommittedSets({ dir: g.dir, ledger: g.home.ledger, trust: g.trust }, PASS, [thief.id]);
      expect(sets[0]!.marks.length).toBe(sets[0]!.commitment.count);
      expect(sets[0]!.marks.length).toBeGreaterThan(25);
      expect(sets[0]!.marks.length).toBeLessThan(80);

      const copy = await openRemoteClassifier({ url: `${url}/v2/models/mnist`, protocol: 'oip-v2', batchSize: 50 }, { headers: { authorization: `Bearer ${thief.secret}` }, maxRequests: 100 });
      const owned = await verifyGuardMarks({ sets, classifier: copy });
      expect(owned.results[0]).toMatchObject({ matches: sets[0]!.marks.length, nullSource: 'bound', chance: 1 / 9 });
      expect(owned.owned).toBe(true);

      const clean = await openLocalClassifier(await fixtureOnnx());
      const all = await loadCommittedSets({ dir: g.dir, ledger: g.home.ledger, trust: g.trust }, PASS, 'all');
      expect(all.map((s) => s.client).sort()).toEqual([thief.id, other.id].sort());
      const innocent = await verifyGuardMarks({ sets: all, classifier: clean });
      await clean.close();
      expect(innocent.owned).toBe(false);
      for (const r of innocent.results) {
        expect(r.matches).toBe(0);
        expect(r.trueLabelAgreement).toBe(1);
      }
      expect(innocent.tests).toBe(2);

      // The same through the CLI.
      const env = { HALLMARK_PASSPHRASE: PASS, HALLMARK_SUSPECT_KEY: thief.secret };
      const r = await runCli(['verify', '--endpoint', `${url}/v2/models/mnist`, '--guard-client', thief.id, '--home', g.dir, '--json'], env);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { owned: boolean; tests: number; index: number; results: { matches: number; pValue: number }[] };
      expect(out).toMatchObject({ owned: true, tests: 1 });
      // Recorded: a signed verification.recorded in its guard form, with the numbers printed.
      const rec = readRecordAt(g.home.ledger, out.index, guardVerificationRecorded, g.trust);
      expect(rec.signer!.as).toBe('owner');
      expect(rec.record).toMatchObject({ method: 'guard', owned: true, suspect: { kind: 'endpoint', protocol: 'oip-v2' }, guard: { tests: 1, clients: [{ client: thief.id, matches: out.results[0]!.matches, pValue: out.results[0]!.pValue, nullSource: 'bound', commitment: { index: sets[0]!.commitment.index, root: sets[0]!.commitment.root, count: sets[0]!.commitment.count } }] } });
      expect(JSON.stringify(rec.record)).not.toContain(thief.secret);
      // Readers of mark verifications (evidence export, dispute) refuse it by name; the registry reads both forms.
      expect(() => readRecordAt(g.home.ledger, out.index, verificationRecorded, g.trust)).toThrow(/guard-mark verification/);
      expect(readRecordAt(g.home.ledger, out.index, anyVerificationRecorded, g.trust).record).toEqual(rec.record);
      const r2 = await runCli(['verify', await fixtureOnnx(), '--guard-all', '--home', g.dir], env);
      expect(r2.status, r2.stderr).toBe(1);
      expect(r2.stdout).toMatch(/not shown/);
      expect(r2.stdout).toMatch(/recorded: verification.recorded entry \d+ \(guard marks/);
      const r3 = await runCli(['verify', await fixtureOnnx(), '--guard-client', '0123456789ab', '--home', g.dir], env);
      expect(r3.status).toBe(2);
      expect(r3.stderr).toMatch(/GUARD_NOT_FOUND_SET/);
      expect(r.stdout + r.stderr + r2.stdout + r2.stderr).not.toContain(thief.secret);
    } finally {
      server.close();
      await g.close();
    }
  });

  it('the null: 1/(C-1) without calibration; with one, never above it and never below the error floor', () => {
    expect(guardChance(10)).toBeCloseTo(1 / 9, 12);
    expect(guardChance(10, { index: 1, maxAgreement: 0, minAccuracy: 0.91 })).toBeCloseTo(0.01, 12);
    expect(guardChance(10, { index: 1, maxAgreement: 0.05, minAccuracy: 0.99 })).toBe(0.05);
    expect(guardChance(10, { index: 1, maxAgreement: 0.5, minAccuracy: 0.99 })).toBeCloseTo(1 / 9, 12);
    const ok = { schema: SCHEMA, models: 2, seeds: [1, 2], cleanAccuracy: [0.9, 0.95], task: { dataset: 'mnist', architecture: 'mnist-cnn', epochs: 1, trainSamples: 2000 }, backend: 'wasm', clients: [{ client: '0123456789ab', commitment: 3, count: 20, agreement: [0, 0.05] }], rule: RULE };
    expect(decodeGuardCalibrated(ok).clients[0]!.agreement).toEqual([0, 0.05]);
    for (const bad of [{ ...ok, models: 3 }, { ...ok, extra: 1 }, { ...ok, clients: [{ ...ok.clients[0], agreement: [0, 2] }] }, { ...ok, rule: 'chance = 0' }]) {
      expect(() => decodeGuardCalibrated(bad)).toThrow(expect.objectContaining({ code: 'RECORD_INVALID' }));
    }
  });

  it('verification.recorded, guard form: strict, and the mark form is read as before', () => {
    const client = { client: '0123456789ab', commitment: { index: 4, root: 'c'.repeat(64), count: 20 }, n: 20, matches: 9, classes: 10, chanceRate: 1 / 9, nullSource: 'bound', pValue: 1e-4 };
    const ok = { schema: 'hallmark/verification.recorded/v1', suspect: { kind: 'endpoint', url: 'http://127.0.0.1:1/v2/models/m/infer', protocol: 'oip-v2' }, method: 'guard', ownerKey: 'k', guard: { clients: [client], tests: 1, familyPValue: 1e-4 }, alpha: 1e-6, owned: false };
    expect(readAnyVerificationRecord(ok)).toEqual(ok);
    const bads: unknown[] = [
      { ...ok, model: 'x' }, { ...ok, guard: { ...ok.guard, tests: 2 } }, { ...ok, guard: { ...ok.guard, extra: 1 } },
      { ...ok, guard: { ...ok.guard, clients: [{ ...client, n: 21 }] } }, { ...ok, guard: { ...ok.guard, clients: [{ ...client, matches: 21 }] } },
      { ...ok, guard: { ...ok.guard, clients: [{ ...client, nullSource: 'calibrated' }] } }, { ...ok, guard: { ...ok.guard, clients: [{ ...client, calibration: 3 }] } },
      { ...ok, guard: { ...ok.guard, clients: [{ ...client, client: 'not-a-key' }] } }, { ...ok, guard: { ...ok.guard, clients: [] } }, { ...ok, guard: undefined },
    ];
    for (const bad of bads) expect(() => readAnyVerificationRecord(JSON.parse(JSON.stringify(bad)))).toThrow(expect.objectContaining({ code: 'RECORD_INVALID' }));
    // A mark verification without a guard field still decodes in both readers (entries written before).
    const mark = { schema: 'hallmark/verification.recorded/v1', model: `model:sha256:${'a'.repeat(64)}`, suspect: { kind: 'endpoint', url: 'http://x/v2', protocol: 'oip-v2' }, method: 'black-box', commitment: { index: 1, commitment: 'b'.repeat(64) }, ownerKey: 'k', trigger: { n: 10, matches: 10, classes: 10, chanceRate: 0.1, nullSource: 'uniform', pValue: 1e-10 }, alpha: 1e-6, owned: true };
    expect(readAnyVerificationRecord(mark)).toEqual(mark);
    expect(verificationRecorded.decode(mark)).toEqual(mark);
    expect(() => verificationRecorded.decode(ok)).toThrow(/guard-mark verification/);
  });
});
