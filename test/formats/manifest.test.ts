import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJsonBytes, hashChildren, hashLeaf } from '../../ledger/index.js';
import { buildDatasetManifest, datasetLeafForFile, proveDatasetFile, verifyDatasetFileProof } from '../../src/formats/dataset-manifest.js';
import { FormatError } from '../../src/formats/errors.js';
import { buildTensorManifest, proveTensor, verifyTensorProof } from '../../src/formats/tensor-manifest.js';
import type { NamedTensor } from '../../src/formats/tensor.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Naive RFC 6962 MTH (§2.1): split at the largest power of two below n. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function expectCode(f: () => unknown, code: string) {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    expect((e as FormatError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

const tensors = (n: number): NamedTensor[] =>
  Array.from({ length: n }, (_, i) => ({ name: `layer${(i * 7) % n}/w${i}`, dtype: 'F32', shape: [2], data: Float32Array.from([i, -i]) }));

describe('tensor manifest', () => {
  it('root is RFC 6962 over canonical JSON leaves sorted by name (naive reference)', () => {
    for (const n of [1, 2, 3, 5, 8, 13]) {
      const ts = tensors(n);
      const m = buildTensorManifest(ts);
      const leaves = [...m.leaves].sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(m.leaves).toEqual(leaves);
      expect(m.root).toBe(hex(mth(leaves.map((l) => hashLeaf(canonicalJsonBytes({ name: l.name, dtype: l.dtype, shape: l.shape, sha256: l.sha256 }))))));
      expect(buildTensorManifest([...ts].reverse()).root).toBe(m.root); // storage order does not matter
    }
    expect(buildTensorManifest([]).root).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('every tensor proves; a changed tensor, name, root or proof does not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (n, pick) => {
        const m = buildTensorManifest(tensors(n));
        const name = m.leaves[pick % n]!.name;
        const { leaf, proof } = proveTensor(m, name);
        verifyTensorProof(m.root, leaf, proof);
        expectCode(() => verifyTensorProof(m.root, { ...leaf, sha256: '0'.repeat(64) }, proof), 'FORMAT_BAD_PROOF');
        expectCode(() => verifyTensorProof(m.root, { ...leaf, shape: [1, 2] }, proof), 'FORMAT_BAD_PROOF');
        expectCode(() => verifyTensorProof('ab'.repeat(32), leaf, proof), 'FORMAT_BAD_PROOF');
        if (proof.hashes.length > 0) {
          const bad = { ...proof, hashes: [...proof.hashes] };
          bad.hashes[0] = Buffer.alloc(32, 9).toString('base64');
          expectCode(() => verifyTensorProof(m.root, leaf, bad), 'FORMAT_BAD_PROOF');
          expectCode(() => verifyTensorProof(m.root, leaf, { ...proof, index: (proof.index + 1) % n }), 'FORMAT_BAD_PROOF');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('refuses duplicate names, unknown names and malformed proofs', () => {
    const ts = tensors(3);
    expectCode(() => buildTensorManifest([...ts, ts[0]!]), 'FORMAT_CORRUPT');
    const m = buildTensorManifest(ts);
    expectCode(() => proveTensor(m, 'nope'), 'FORMAT_NOT_FOUND');
    expectCode(() => proveTensor({ ...m, root: '00'.repeat(32) }, ts[0]!.name), 'FORMAT_CORRUPT');
    const { leaf } = proveTensor(m, ts[0]!.name);
    expectCode(() => verifyTensorProof(m.root, leaf, { index: 'x' }), 'FORMAT_BAD_PROOF');
    expectCode(() => verifyTensorProof(m.root, leaf, null), 'FORMAT_BAD_PROOF');
  });
});

describe('dataset manifest', () => {
  function dataset(): string {
    const dir = mkdtempSync(join(tmpdir(), 'ds-'));
    for (const cls of ['0', '1', '7']) {
      mkdirSync(join(dir, cls));
      for (let i = 0; i < 5; i++) writeFileSync(join(dir, cls, `img${i}.png`), randomBytes(50 + i));
    }
    return dir;
  }

  it('proves that each image was in the set, from the image file itself', async () => {
    const dir = dataset();
    const m = await buildDatasetManifest(dir);
    expect(m.files).toHaveLength(15);
    expect(m.files[0]!.path).toBe('0/img0.png');
    for (const f of m.files) {
      const { proof } = proveDatasetFile(m, f.path);
      const leaf = await datasetLeafForFile(f.path, join(dir, ...f.path.split('/')));
      verifyDatasetFileProof(m.root, leaf, JSON.parse(JSON.stringify(proof)));
    }
  });

  it('a modified image, a moved image or an image not in the set fails', async () => {
    const dir = dataset();
    const m = await buildDatasetManifest(dir);
    const { proof } = proveDatasetFile(m, '1/img2.png');
    writeFileSync(join(dir, '1', 'img2.png'), randomBytes(52));
    const changed = await datasetLeafForFile('1/img2.png', join(dir, '1', 'img2.png'));
    expectCode(() => verifyDatasetFileProof(m.root, changed, proof), 'FORMAT_BAD_PROOF');
    const moved = { ...proveDatasetFile(m, '1/img2.png').leaf, path: '7/img2.png' };
    expectCode(() => verifyDatasetFileProof(m.root, moved, proof), 'FORMAT_BAD_PROOF');
    expectCode(() => proveDatasetFile(m, '9/img0.png'), 'FORMAT_NOT_FOUND');
    expect((await buildDatasetManifest(dir)).root).not.toBe(m.root);
  });
});
