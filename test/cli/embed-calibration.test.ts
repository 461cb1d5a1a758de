// `hallmark embed --training-free` on a real model whose inputs the fidelity measurement cannot
// synthesise alone: silero VAD v5 (MIT, fixtures/real/silero-vad-v5) takes a dynamic [batch,
// samples] audio input, an int64 sample rate and a float recurrent state. Without the --input-*
// flags the CLI refuses with a typed error that names the flag to give and writes nothing; with
// them it marks the model, prints the fidelity it measured on synthetic audio, and records it.
// Malformed flags are usage errors (exit 2) before anything is read.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

vi.setConfig({ testTimeout: 600_000 });

const SILERO = join(REPO, 'fixtures/real/silero-vad-v5/silero_vad_v5.onnx');
const env = { HALLMARK_PASSPHRASE: 'calibration flags passphrase' };
let root: string;
let home: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hm-embed-cal-'));
  home = join(root, 'home');
  expect(hallmark(['init'], { home, env }).status).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const embed = (out: string, flags: string[]) =>
  hallmark(['embed', SILERO, '--out', join(root, out), '--training-free', '--scheme', 'weight', ...flags], { home, env, timeout: 580_000 });

describe('embed --training-free: calibration inputs from the command line', () => {
  it('refuses a model with dynamic and non-float inputs and no --input-* flags, naming each; writes nothing', () => {
    const r = embed('none.onnx', ['--calibration-inputs', '4']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/FIDELITY_UNSUPPORTED/);
    // One line naming every input it cannot feed, and the flag for each.
    expect(r.stderr).toMatch(/calibration cannot feed 3 inputs/);
    expect(r.stderr).toMatch(/input has a dynamic dimension 1 \(give --input-dims input=1,\.\.\.\)/);
    expect(r.stderr).toMatch(/sr is int64 \(give --input-value sr=X\)/);
    expect(r.stderr).toMatch(/state has a dynamic dimension 1 \(give --input-dims state=1,\.\.\.\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(root, 'none.onnx'))).toBe(false);
  });

  it.each([
    [['--input-dims', 'input=1,0'], /--input-dims needs up to 8 positive integers/],
    [['--input-dims', '=1,512'], /--input-dims takes NAME=VALUE/],
    [['--input-value', 'sr=sixteen'], /--input-value needs a number/],
    [['--input-range', 'input=1,-1'], /--input-range needs LO < HI/],
    [['--input-signal', 'input=speech'], /--input-signal takes NAME=uniform or NAME=audio/],
    [['--input-value', 'sr=16000', '--input-value', 'sr=8000'], /gives input "sr" twice/],
    [['--sample-rate', '12'], /--sample-rate must be in/],
    [['--lambda', '-1'], /--lambda must be a number in \[0, 1000\]/],
  ])('a malformed %j is a usage error', (flags, message) => {
    const r = embed('bad.onnx', flags);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/INVALID_ARGUMENT/);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(root, 'bad.onnx'))).toBe(false);
  });

  it('marks silero with the flags and prints the fidelity measured on synthetic audio', () => {
    const r = embed('marked.onnx', [
      '--calibration-inputs', '8',
      '--input-dims', 'input=1,512', '--input-dims', 'state=2,1,128',
      '--input-value', 'sr=16000', '--input-value', 'state=0',
      '--input-signal', 'input=audio', '--sample-rate', '16000', '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { event: string; ok: boolean; fidelity: { inputs: number; source: string; outputs: { name: string; maxAbsChange: number }[] }; weight: { bitErrors: number; layer: string } };
    expect(summary.event).toBe('summary');
    expect(summary.ok).toBe(true);
    expect(summary.weight.bitErrors).toBe(0);
    expect(summary.weight.layer).toMatch(/then_branch/); // the 16 kHz branch, which sr=16000 runs
    expect(summary.fidelity.inputs).toBe(8);
    expect(summary.fidelity.source).toBe('synthetic');
    expect(summary.fidelity.outputs.map((o) => o.name).sort()).toEqual(['output', 'stateN']);
    expect(existsSync(join(root, 'marked.onnx'))).toBe(true);
    const check = hallmark(['verify', join(root, 'marked.onnx'), '--json'], { home, env });
    expect(check.status).toBe(0);
    expect(JSON.parse(check.stdout) as { decision: { owned: boolean } }).toMatchObject({ decision: { owned: true } });
  });
});
