// `hallmark fingerprint`, `calibrate --fingerprint` and `verify --fingerprint` end to end through
// the built CLI, with budgets small enough for the fast suite (the figures come from the bench and
// the slow suite). Bad input gives one line, a code and exit status 2, and leaves nothing behind.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { openHome } from '../../src/home/index.js';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';
import { FIXTURE } from '../verify/helpers.js';

const PASS = 'fingerprint cli';

/** The long runs go through an async child so the test worker keeps answering vitest meanwhile. */
function hallmarkAsync(args: string[], o: { home: string; env: Record<string, string>; timeout: number }): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], { env: { ...process.env, HALLMARK_HOME: o.home, ...o.env }, timeout: o.timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
const env = { HALLMARK_PASSPHRASE: PASS };
// The tests also open the sealed home in this process.
process.env.HALLMARK_PASSPHRASE = PASS;
const TINY = ['--n', '10', '--candidates', '30', '--steps', '25', '--train-samples', '200', '--epochs', '1', '--surrogates', '1', '--references', '1', '--backend', 'wasm'];

describe('hallmark fingerprint / calibrate --fingerprint / verify --fingerprint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-fp-cli-'));
  const home = join(dir, 'home');

  it('commits a sealed, encrypted fingerprint, calibrates it, and verify records the test', async () => {
    expect(hallmark(['init'], { home, env }).status).toBe(0);
    const r = await hallmarkAsync(['fingerprint', FIXTURE, ...TINY, '--json'], { home, env, timeout: 900_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.event === 'progress' && l.stage === 'generate')).toBe(true);
    const s = lines.at(-1) as { event: string; index: number; commitment: string; checkpointSize: number; secretPath: string; parameters: { n: number } };
    expect(s).toMatchObject({ event: 'summary', parameters: { n: 10, norm: 'linf', epsilon: 0.25 } });
    // The fixture was built by buildMnistCnn(1): its topology records initialiser seeds 2..5, which
    // anyone can rebuild its starting weights from (docs/fingerprints.md, "The student's twin").
    expect((s as unknown as { seededInitialisers: number[] }).seededInitialisers).toEqual([2, 3, 4, 5]);
    expect(s.checkpointSize).toBeGreaterThan(s.index); // sealed
    expect(statSync(s.secretPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(s.secretPath, 'utf8')).not.toMatch(/targets|hallmark\.fingerprint-opening/);
    const h = openHome(home);
    const entry = h.ledger.get(s.index).entry;
    h.close();
    expect(entry.type).toBe('fingerprint.committed');
    expect(JSON.stringify(entry.payload)).not.toMatch(/targets|images/);

    const noCal = hallmark(['verify', FIXTURE, '--fingerprint'], { home, env });
    expect(noCal.status).toBe(2);
    expect(noCal.stderr).toMatch(/^hallmark: FINGERPRINT_NOT_FOUND: no calibration for fingerprint.committed #\d+: run hallmark calibrate --fingerprint/);

    const c = await hallmarkAsync(['calibrate', '--fingerprint', '--models', '2', '--train-samples', '200', '--backend', 'wasm', '--json'], { home, env, timeout: 900_000 });
    expect(c.status).toBe(0);
    const cal = JSON.parse(c.stdout) as { index: number; fingerprint: { agreement: number[]; n: number }; commitment: { index: number } };
    expect(cal.commitment.index).toBe(s.index);
    expect(cal.fingerprint.agreement).toHaveLength(2);

    const v = await hallmarkAsync(['verify', FIXTURE, '--fingerprint', String(s.index), '--alpha', '0.01', '--json'], { home, env, timeout: 300_000 });
    const report = JSON.parse(v.stdout) as { decision: { owned: boolean; tests: number }; fingerprint: { matches: number; n: number; chanceRate: number; calibration: number } };
    // MODEL answers the target in every chosen example, by construction.
    expect(report.fingerprint).toMatchObject({ matches: 10, n: 10, calibration: cal.index, chanceRate: Math.max(0.1, ...cal.fingerprint.agreement) });
    expect(report.decision.tests).toBe(1);
    expect(v.status).toBe(report.decision.owned ? 0 : 1);
    const text = await hallmarkAsync(['verify', FIXTURE, '--fingerprint', '--alpha', '0.01'], { home, env, timeout: 300_000 });
    expect(text.stdout).toMatch(/fingerprint {2}10\/10 fingerprint examples answered with their target/);
  }, 1_800_000);

  it('bad input: one line, a code, exit 2, and nothing appended', async () => {
    const onnx = join(dir, 'fixture.onnx');
    writeFileSync(onnx, await convertTfjsToOnnx(FIXTURE));
    const h = openHome(home);
    const size = h.ledger.size();
    h.close();
    const countSecrets = () => (existsSync(join(home, 'secrets')) ? readdirSync(join(home, 'secrets')).length : 0);
    const secrets = countSecrets();
    const cases: [string[], RegExp, Record<string, string>?][] = [
      [['fingerprint', FIXTURE, '--epsilon', '2'], /^hallmark: INVALID_ARGUMENT: --epsilon must be a number in \(0, 1\]/],
      [['fingerprint', FIXTURE, '--n', '0'], /^hallmark: INVALID_ARGUMENT: n must be an integer in \[10, 2000\]/],
      [['fingerprint', onnx], /^hallmark: FINGERPRINT_UNSUPPORTED: generation needs gradients through the model/],
      [['fingerprint', FIXTURE, '--dataset', join(dir, 'nope')], /^hallmark: \w+: /],
      [['fingerprint', FIXTURE], /^hallmark: SECRET_BAD_PASSPHRASE: /, { HALLMARK_PASSPHRASE: 'wrong' }],
      [['verify', FIXTURE, '--fingerprint', '0'], /^hallmark: FINGERPRINT_BAD_INPUT: entry 0 is a \w+\.\w+, not a fingerprint.committed/],
      [['calibrate', '--fingerprint', '99999'], /^hallmark: FINGERPRINT_NOT_FOUND: the ledger has no entry 99999/],
    ];
    for (const [args, want, e] of cases) {
      const r = hallmark(args, { home, env: e ?? env, timeout: 300_000 });
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(want);
      expect(r.status).toBe(2); // a wrong passphrase is the caller's mistake too (docs/cli.md)
      expect(r.stderr).not.toContain(PASS);
    }
    const after = openHome(home);
    expect(after.ledger.size()).toBe(size);
    after.close();
    expect(countSecrets()).toBe(secrets);
  }, 900_000);
});
