// The fingerprint commitment and record, checked against a second implementation written here from
// the layout in src/fingerprint/fingerprint-set.ts (RFC 8785 by the `canonicalize` package, SHA-256
// by node:crypto), and the strict decoder against malformed and hostile payloads.
import { createHash, randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import {
  commitFingerprint, decodeFingerprintCommitted, decodeFingerprintOpening, digestRecipe, encodeFingerprintOpening,
  FINGERPRINT_SCHEMA, RECIPE_KIND, type FingerprintOpening, type Recipe,
} from '../../src/fingerprint/index.js';

const sha = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');
const recipe = (role: 'surrogate' | 'reference', seed: number): Recipe => ({
  kind: RECIPE_KIND, role, architecture: 'mnist-cnn', input: [28, 28, 1], classes: 10, ...(role === 'surrogate' ? { teacher: `model:sha256:${'ab'.repeat(32)}` } : {}),
  data: { dataset: 'cd'.repeat(32), from: 0, count: 100 }, epochs: 1, batchSize: 64, learningRate: 0.001, seed,
});

function opening(n = 12): FingerprintOpening {
  return {
    parameters: { n, classes: 10, height: 28, width: 28, channels: 1, norm: 'linf', epsilon: 0.25, steps: 30, candidates: 3 * n, dataset: { name: 'mnist', sha256: 'cd'.repeat(32) } },
    recipes: { surrogates: [recipe('surrogate', 1), recipe('surrogate', 2)], references: [recipe('reference', 3)] },
    set: { images: new Uint8Array(randomBytes(n * 784)), targets: Array.from({ length: n }, (_, i) => (i * 7) % 10) },
    salt: new Uint8Array(randomBytes(32)),
  };
}

function specCommitment(o: FingerprintOpening): string {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  const setDigest = sha(canonicalize({ images: b64(o.set.images), targets: [...o.set.targets] })!);
  const recipes = { surrogates: o.recipes.surrogates.map((r) => ({ sha256: sha(canonicalize(r)!) })), references: o.recipes.references.map((r) => ({ sha256: sha(canonicalize(r)!) })) };
  return sha(canonicalize({ type: 'hallmark.fingerprint-commitment', version: 1, parameters: o.parameters, recipes, setDigest, salt: b64(o.salt) })!);
}

describe('fingerprint commitment', () => {
  it('equals a second implementation of the documented layout, and binds every part of the opening', () => {
    const o = opening();
    const c = commitFingerprint(o);
    expect(c).toBe(specCommitment(o));
    expect(digestRecipe(o.recipes.references[0]!)).toBe(sha(canonicalize(o.recipes.references[0])!));
    const flipped = new Uint8Array(o.set.images);
    flipped[100]! ^= 1;
    expect(commitFingerprint({ ...o, set: { ...o.set, images: flipped } })).not.toBe(c);
    expect(commitFingerprint({ ...o, set: { ...o.set, targets: o.set.targets.map((t, i) => (i === 0 ? (t + 1) % 10 : t)) } })).not.toBe(c);
    expect(commitFingerprint({ ...o, recipes: { ...o.recipes, references: [recipe('reference', 4)] } })).not.toBe(c);
    expect(commitFingerprint({ ...o, parameters: { ...o.parameters, epsilon: 0.3 } })).not.toBe(c);
    expect(commitFingerprint({ ...o, salt: new Uint8Array(32) })).not.toBe(c);
  });

  it('an opening round-trips through its encoding and a malformed one is a typed error', () => {
    const o = opening();
    const back = decodeFingerprintOpening(JSON.parse(new TextDecoder().decode(encodeFingerprintOpening(o))));
    expect(commitFingerprint(back)).toBe(commitFingerprint(o));
    const json = JSON.parse(new TextDecoder().decode(encodeFingerprintOpening(o))) as Record<string, unknown>;
    for (const bad of [
      { ...json, targets: [...(json.targets as number[]).slice(1)] },
      { ...json, targets: (json.targets as number[]).map(() => 10) },
      { ...json, images: 'AAAA' },
      { ...json, version: 2 },
      { ...json, salt: 'c2hvcnQ=' },
      { ...json, recipes: { surrogates: [{ kind: 'x' }], references: [] } },
    ]) {
      expect(() => decodeFingerprintOpening(bad)).toThrow(expect.objectContaining({ code: 'FINGERPRINT_BAD_INPUT' }));
    }
  });

  it('the fingerprint.committed decoder is strict', () => {
    const ok = {
      schema: FINGERPRINT_SCHEMA, model: `model:sha256:${'ab'.repeat(32)}`, commitment: 'ef'.repeat(32),
      parameters: opening().parameters, recipes: { surrogates: [{ sha256: '01'.repeat(32) }], references: [{ sha256: '02'.repeat(32) }] }, ownerKey: 'owner+abcd+AAAA',
    };
    expect(decodeFingerprintCommitted(ok).commitment).toBe('ef'.repeat(32));
    expect(() => decodeFingerprintCommitted({ ...ok, schema: 'hallmark/fingerprint.committed/v2' })).toThrow(expect.objectContaining({ code: 'FINGERPRINT_UNSUPPORTED' }));
    for (const bad of [
      { ...ok, extra: 1 },
      { ...ok, model: 'model:md5:00' },
      { ...ok, commitment: 'EF'.repeat(32) },
      { ...ok, parameters: { ...ok.parameters, epsilon: 2 } },
      { ...ok, parameters: { ...ok.parameters, norm: 'l2' } },
      { ...ok, parameters: { ...ok.parameters, n: 1e9 } },
      { ...ok, recipes: { surrogates: [], references: [{ sha256: '02'.repeat(32) }] } },
      { ...ok, recipes: { ...ok.recipes, extra: [] } },
      { ...ok, ownerKey: 'x'.repeat(501) },
      null, [], 'fingerprint',
    ]) {
      expect(() => decodeFingerprintCommitted(bad)).toThrow(expect.objectContaining({ code: 'FINGERPRINT_BAD_INPUT' }));
    }
  });
});
