// hallmark dataset / model / lineage, run as a user would (node dist/cli/main.js) against a fresh
// home. Digests are recomputed here with node:crypto and the `canonicalize` package.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnx } from '../../src/formats/onnx-tensor.js';
import { hallmark, hallmarkJson } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

// `hallmark init` seals the home's keys under this passphrase; every command run here opens them with it.
process.env.HALLMARK_PASSPHRASE ||= 'cli test passphrase';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const FIXTURE = join(REPO, 'fixtures/mnist-cnn');

/** One line on stderr, naming the code, and the exit status. */
function fails(args: string[], home: string, code: string, status = 2): string {
  const r = hallmark(args, { home });
  expect(r.status, r.stderr).toBe(status);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^hallmark: ${code}: `));
  return r.stderr;
}

describe.runIf(existsSync(join(FIXTURE, 'model.json')))('hallmark dataset, model and lineage', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hm-lineage-cli-'));
  const home = join(tmp, 'home');
  const pngDir = join(tmp, 'digits');
  let mnistId: string;
  let baseId: string;

  beforeAll(() => {
    expect(hallmark(['init', '--home', home]).status).toBe(0);
    for (const [cls, n] of [['zero', 3], ['one', 2]] as const) {
      mkdirSync(join(pngDir, cls), { recursive: true });
      for (let i = 0; i < n; i++) {
        const png = new PNG({ width: 8, height: 8 });
        png.data.fill(40 * i + (cls === 'one' ? 100 : 0));
        writeFileSync(join(pngDir, cls, `${i}.png`), PNG.sync.write(png));
      }
    }
  });

  it('registers the built-in mnist and a PNG folder, and refuses a second registration', () => {
    const m = hallmarkJson<{ id: string; items: number; index: number }>(['dataset', 'register', 'mnist', '--name', 'MNIST digits'], { home });
    expect(m).toMatchObject({ items: 10000, index: 0 });
    expect(m.id).toMatch(/^dataset:sha256:[0-9a-f]{64}$/);
    mnistId = m.id;
    const p = hallmarkJson<{ id: string; items: number; classes: string[]; shape: number[] }>(['dataset', 'register', pngDir], { home });
    expect(p).toMatchObject({ items: 5, classes: ['one', 'zero'], shape: [8, 8, 1] });
    expect(fails(['dataset', 'register', pngDir], home, 'LINEAGE_EXISTS')).toContain('already registered');
    writeFileSync(join(pngDir, 'one', 'bad.png'), 'not a png');
    // A corrupt input file is neither a usage error nor a failed check: exit 3.
    expect(fails(['dataset', 'register', pngDir], home, 'FORMAT_CORRUPT', 2)).toContain('one/bad.png');
  });

  it('inspects a model: format, tensors and an OpenSSF-style digest anyone can recompute', () => {
    const r = hallmarkJson<{ format: string; digest: string; files: { path: string; sha256: string }[]; tensors: { name: string; dtype: string; shape: number[] }[]; tensorManifestRoot: string }>(['model', 'inspect', FIXTURE]);
    expect(r.format).toBe('tfjs-layers');
    // A folder's digest covers every file in it, sorted by path.
    const files = readdirSync(FIXTURE).sort().map((f) => ({ path: f, sha256: sha256(readFileSync(join(FIXTURE, f))) }));
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['model.json', 'weights.bin']));
    expect(r.files.map((f) => ({ path: f.path, sha256: f.sha256 }))).toEqual(files);
    expect(r.digest).toBe(sha256(canonicalize(files) as string));
    const manifest = JSON.parse(readFileSync(join(FIXTURE, 'model.json'), 'utf8')).weightsManifest[0].weights as { name: string; shape: number[] }[];
    expect(r.tensors.map((t) => t.name).sort()).toEqual(manifest.map((w) => w.name).sort());
    expect(r.tensorManifestRoot).toMatch(/^[0-9a-f]{64}$/);
    const human = hallmark(['model', 'inspect', FIXTURE]);
    expect(human.stdout).toContain('tfjs-layers');
    expect(human.stdout).toContain(r.digest);
  });

  it('registers a model trained on mnist, converts it, registers the conversion as derived, and shows the lineage', () => {
    const base = hallmarkJson<{ id: string; derivation: { operation: string } }>(['model', 'register', FIXTURE, '--dataset', mnistId], { home });
    baseId = base.id;
    expect(base.derivation.operation).toBe('train');
    const onnxPath = join(tmp, 'mnist-cnn.onnx');
    const conv = hallmarkJson<{ id: string; from: string; to: string }>(['model', 'convert', FIXTURE, '--to', 'onnx', '--out', onnxPath]);
    expect(conv).toMatchObject({ from: 'tfjs-layers', to: 'onnx' });
    // The written file is real ONNX: its initializers are the fixture's tensors, relaid out.
    const decoded = onnx.ModelProto.decode(readFileSync(onnxPath));
    expect(decoded.graph!.initializer!.length).toBe(8);
    const params = { tool: 'hallmark model convert', opset: 13 };
    writeFileSync(join(tmp, 'params.json'), JSON.stringify(params));
    const derived = hallmarkJson<{ id: string; derivation: { parametersDigest: string; inputs: { models: string[]; datasets: string[] } } }>(
      ['model', 'register', onnxPath, '--derived-from', baseId, '--operation', 'convert', '--parameters', join(tmp, 'params.json'), '--name', 'cnn-onnx'], { home });
    expect(derived.id).toBe(conv.id);
    expect(derived.derivation.inputs).toEqual({ models: [baseId], datasets: [] });
    expect(derived.derivation.parametersDigest).toBe(sha256(canonicalize(params) as string));

    const seen = hallmarkJson<{ registered: { index: number; name: string } | null }>(['model', 'inspect', onnxPath], { home });
    expect(seen.registered).toMatchObject({ name: 'cnn-onnx' });
    expect(hallmarkJson<{ registered: unknown }>(['model', 'inspect', join(tmp, 'mnist-cnn.onnx'), '--home', join(tmp, 'home')]).registered).not.toBeNull();
    const tree = hallmarkJson<{ id: string; derivations: { operation: string; baseModels: { id: string; derivations: { datasets: { id: string }[] }[] }[] }[] }>(['lineage', derived.id], { home });
    expect(tree.id).toBe(derived.id);
    expect(tree.derivations[0]!.operation).toBe('convert');
    expect(tree.derivations[0]!.baseModels[0]!.id).toBe(baseId);
    expect(tree.derivations[0]!.baseModels[0]!.derivations[0]!.datasets[0]!.id).toBe(mnistId);
    const text = hallmark(['lineage', onnxPath], { home });
    expect(text.status).toBe(0);
    for (const s of ['cnn-onnx', 'convert', 'mnist-cnn', 'train', 'MNIST digits', derived.id, baseId, mnistId]) expect(text.stdout).toContain(s);
  });

  it('errors are one line and a non-zero exit', () => {
    fails(['lineage', 'model:sha256:1234'], home, 'LINEAGE_INVALID');
    fails(['lineage', `model:sha256:${'0'.repeat(64)}`], home, 'LINEAGE_NOT_FOUND');
    fails(['model', 'register', FIXTURE], home, 'LINEAGE_EXISTS');
    fails(['model', 'register', join(tmp, 'nope.onnx')], home, 'FORMAT_NOT_FOUND');
    // One model, one id: a single file's id is its SHA-256, so a renamed copy is the same model.
    copyFileSync(join(tmp, 'mnist-cnn.onnx'), join(tmp, 'renamed.onnx'));
    fails(['model', 'register', join(tmp, 'renamed.onnx')], home, 'LINEAGE_EXISTS');
    fails(['model', 'register', join(REPO, 'fixtures/real/silero-vad-v5/silero_vad_v5.onnx'), '--derived-from', `model:sha256:${'a'.repeat(64)}`], home, 'LINEAGE_NOT_FOUND');
    fails(['model', 'convert', join(tmp, 'mnist-cnn.onnx'), '--to', 'onnx', '--out', join(tmp, 'x.onnx')], home, 'FORMAT_UNSUPPORTED');
    fails(['model', 'register', FIXTURE, '--operation', 'train'], home, 'INVALID_ARGUMENT');
  });
});
