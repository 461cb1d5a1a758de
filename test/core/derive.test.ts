// The documented derivation layout, recomputed with node:crypto (OpenSSL's Ed25519 and HKDF),
// and the binding checks a verifier relies on.
import { createPrivateKey, createPublicKey, hkdfSync, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveMarkBits, deriveOwnerPublicKey, deriveSeed, deriveWatermarkKeys, deriveWatermarkRoot, verifyWatermarkRoot, watermarkRootMessage,
} from '../../src/core/derive.js';
import { CoreError } from '../../src/core/errors.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const nodeKey = (seed: Uint8Array) => createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
const nodePublic = (seed: Uint8Array) => new Uint8Array(createPublicKey(nodeKey(seed)).export({ format: 'der', type: 'spki' }).subarray(-32));
const hkdf = (ikm: Uint8Array, salt: string, info: Uint8Array, n: number) => new Uint8Array(hkdfSync('sha256', ikm, Buffer.from(salt), info, n));
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const idArb = fc.string({ minLength: 1, maxLength: 40 });

describe('deriveWatermarkRoot', () => {
  it('RFC 8032 test 1 key: the public key is the published one', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    expect(Buffer.from(deriveOwnerPublicKey(seed)).toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  });

  it('is the Ed25519 signature (OpenSSL) over the documented message', () => {
    fc.assert(
      fc.property(seedArb, idArb, (seed, id) => {
        const idBytes = Buffer.from(id, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32BE(idBytes.length);
        const msg = Buffer.concat([Buffer.from('hallmark/watermark/v1'), Buffer.from([0]), len, idBytes]);
        expect(Buffer.from(watermarkRootMessage(id))).toEqual(msg);
        const root = deriveWatermarkRoot(seed, id);
        expect(root.ownerPublicKey).toEqual(nodePublic(seed));
        expect(Buffer.from(root.signature)).toEqual(nodeSign(null, msg, nodeKey(seed)));
      }),
      { numRuns: 25 },
    );
  });

  it('verifies for its owner and model, and fails for any other', () => {
    const seed = new Uint8Array(32).fill(1);
    const root = deriveWatermarkRoot(seed, 'model-a');
    expect(() => verifyWatermarkRoot(root)).not.toThrow();
    const other = deriveOwnerPublicKey(new Uint8Array(32).fill(2));
    const bad = [
      { ...root, modelId: 'model-b' },
      { ...root, ownerPublicKey: other },
      { ...root, signature: Uint8Array.from(root.signature, (b, i) => (i === 40 ? b ^ 1 : b)) },
      { ...root, ownerPublicKey: new Uint8Array(32).fill(0xff) }, // not a curve point
    ];
    for (const r of bad) {
      expect(() => verifyWatermarkRoot(r)).toThrow(CoreError);
      try {
        verifyWatermarkRoot(r);
      } catch (e) {
        expect((e as CoreError).code).toBe('CORE_NOT_BOUND');
      }
    }
  });
});

describe('deriveSeed and deriveMarkBits', () => {
  it('seeds are HKDF-SHA256 of the root with one label per purpose', () => {
    const root = deriveWatermarkRoot(new Uint8Array(32).fill(7), 'mnist-cnn@1');
    const keys = deriveWatermarkKeys(root, 256);
    for (const [p, v] of [['projection', keys.projectionSeed], ['trigger-images', keys.triggerImageSeed], ['trigger-labels', keys.triggerLabelSeed]] as const) {
      expect(v).toEqual(hkdf(root.signature, 'hallmark/watermark/v1', Buffer.from(`hallmark/watermark/v1/${p}`), 32));
      expect(deriveSeed(root, p)).toEqual(v);
    }
    expect(new Set([keys.projectionSeed, keys.triggerImageSeed, keys.triggerLabelSeed].map((s) => Buffer.from(s).toString('hex'))).size).toBe(3);
  });

  it('bits are the first T bits (MSB first) of HKDF over the public key and model id', () => {
    fc.assert(
      fc.property(seedArb, idArb, fc.integer({ min: 1, max: 600 }), (seed, id, t) => {
        const pk = nodePublic(seed);
        const bytes = hkdf(pk, 'hallmark/watermark/v1', Buffer.concat([Buffer.from('hallmark/watermark/v1/bits\0'), Buffer.from(id)]), Math.ceil(t / 8));
        const want = Array.from({ length: t }, (_, i) => (bytes[i >> 3]! >> (7 - (i % 8))) & 1);
        expect(Array.from(deriveMarkBits(pk, id, t))).toEqual(want);
      }),
      { numRuns: 25 },
    );
  });

  it('bits depend on the owner and the model, and a prefix is stable across T', () => {
    const pkA = deriveOwnerPublicKey(new Uint8Array(32).fill(3));
    const pkB = deriveOwnerPublicKey(new Uint8Array(32).fill(4));
    const a = deriveMarkBits(pkA, 'm', 256);
    const diff = (x: Uint8Array, y: Uint8Array) => x.reduce((s, v, i) => s + (v === y[i] ? 0 : 1), 0);
    // two independent 256-bit strings agree on 128 +- 8; 80..176 is > 6 sigma
    expect(diff(a, deriveMarkBits(pkB, 'm', 256))).toBeGreaterThan(80);
    expect(diff(a, deriveMarkBits(pkA, 'n', 256))).toBeGreaterThan(80);
    expect(Array.from(deriveMarkBits(pkA, 'm', 100))).toEqual(Array.from(a.subarray(0, 100)));
  });

  it('rejects caller mistakes', () => {
    expect(() => deriveWatermarkRoot(new Uint8Array(31), 'm')).toThrow(TypeError);
    expect(() => deriveWatermarkRoot(new Uint8Array(32), '')).toThrow(TypeError);
    expect(() => deriveMarkBits(new Uint8Array(32), 'm', 0)).toThrow(RangeError);
    expect(() => deriveMarkBits(new Uint8Array(32), 'm', 255 * 32 * 8 + 1)).toThrow(RangeError);
    expect(() => deriveMarkBits(new Uint8Array(32), 'x'.repeat(2000), 8)).toThrow(RangeError);
  });
});
