// Commitments against an independent computation (the RFC 8785 reference `canonicalize` package
// and node:crypto SHA-256), binding of every field, and defensive decoding.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commitWatermark, decodeCommitment, decodeOpening, encodeOpening, openCommitment, type CommitmentOpening,
} from '../../src/core/commitment.js';
import { deriveWatermarkRoot } from '../../src/core/derive.js';
import { CoreError } from '../../src/core/errors.js';
import { decodeWatermarkRoot, encodeWatermarkRoot, secretDigest, watermarkRootFromBytes, watermarkRootToBytes } from '../../src/core/secret-material.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();
const root = deriveWatermarkRoot(new Uint8Array(32).fill(5), 'fixture-cnn@sha256:abcd');
const opening: CommitmentOpening = {
  scheme: 'uchida+adi',
  parameters: { bits: 256, layer: 'dense_1/kernel', triggers: 100, classes: 10, lambda: 0.01 },
  root,
  salt: new Uint8Array(32).fill(0xa5),
};

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof CoreError) return e.code;
    throw e;
  }
  return undefined;
};

describe('secret material', () => {
  it('is the documented JSON, and its digest is SHA-256 of its canonical form', () => {
    const doc = {
      type: 'hallmark.watermark-root',
      version: 1,
      modelId: root.modelId,
      ownerPublicKey: Buffer.from(root.ownerPublicKey).toString('base64'),
      signature: Buffer.from(root.signature).toString('base64'),
    };
    expect(encodeWatermarkRoot(root)).toEqual(doc);
    expect(Buffer.from(secretDigest(root))).toEqual(sha256(canonicalize(doc)!));
    expect(watermarkRootFromBytes(watermarkRootToBytes(root))).toEqual(root);
  });

  it('rejects malformed documents with typed errors', () => {
    const good = encodeWatermarkRoot(root);
    expect(codeOf(() => decodeWatermarkRoot({ ...good, version: 2 }))).toBe('CORE_UNSUPPORTED_VERSION');
    expect(codeOf(() => decodeWatermarkRoot({ ...good, signature: good.signature.slice(4) }))).toBe('CORE_BAD_DOCUMENT');
    expect(codeOf(() => decodeWatermarkRoot({ ...good, ownerPublicKey: `${good.ownerPublicKey} ` }))).toBe('CORE_BAD_DOCUMENT');
    expect(codeOf(() => decodeWatermarkRoot({ ...good, modelId: 7 }))).toBe('CORE_BAD_DOCUMENT');
    expect(codeOf(() => watermarkRootFromBytes(Uint8Array.of(0xff, 0xfe)))).toBe('CORE_BAD_DOCUMENT');
  });
});

describe('commitWatermark / openCommitment', () => {
  it('digest = SHA-256 of the documented canonical preimage', () => {
    const pre = canonicalize({
      salt: Buffer.from(opening.salt).toString('base64'),
      secretDigest: Buffer.from(secretDigest(root)).toString('hex'),
      parameters: opening.parameters,
      scheme: opening.scheme,
      version: 1,
      type: 'hallmark.watermark-commitment',
    })!;
    expect(commitWatermark(opening)).toEqual({ type: 'hallmark.watermark-commitment', version: 1, digest: sha256(pre).toString('hex') });
  });

  it('opens with the revealed values, through a JSON round trip', () => {
    const c = commitWatermark(opening);
    const revealed = decodeOpening(JSON.parse(JSON.stringify(encodeOpening(opening))));
    expect(revealed).toEqual(opening);
    expect(openCommitment(decodeCommitment(JSON.parse(JSON.stringify(c))), revealed)).toBe(revealed);
  });

  it('any change to scheme, parameters, secret or salt fails with CORE_COMMITMENT_MISMATCH', () => {
    const c = commitWatermark(opening);
    const other = deriveWatermarkRoot(new Uint8Array(32).fill(6), root.modelId);
    const variants: CommitmentOpening[] = [
      { ...opening, scheme: 'uchida' },
      { ...opening, parameters: { ...opening.parameters, bits: 255 } },
      { ...opening, parameters: { ...opening.parameters, extra: true } },
      { ...opening, root: { ...root, modelId: 'another' } },
      { ...opening, root: other },
      { ...opening, salt: Uint8Array.from(opening.salt, (b, i) => (i === 31 ? b ^ 1 : b)) },
    ];
    for (const v of variants) expect(codeOf(() => openCommitment(c, v))).toBe('CORE_COMMITMENT_MISMATCH');
    // key order in parameters does not matter (canonical JSON)
    const reordered = { ...opening, parameters: Object.fromEntries(Object.entries(opening.parameters).reverse()) };
    expect(() => openCommitment(c, reordered)).not.toThrow();
  });

  it('decoders only ever throw typed errors on arbitrary JSON', () => {
    const good = encodeOpening(opening);
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom('type', 'version', 'scheme', 'parameters', 'root', 'salt'), (junk, key) => {
        for (const doc of [junk, { ...good, [key]: junk }]) {
          try {
            decodeOpening(doc);
          } catch (e) {
            expect(e).toBeInstanceOf(CoreError);
          }
          try {
            decodeCommitment(doc);
          } catch (e) {
            expect(e).toBeInstanceOf(CoreError);
          }
        }
      }),
      { numRuns: 300 },
    );
    expect(codeOf(() => decodeCommitment({ type: 'hallmark.watermark-commitment', version: 1, digest: 'AB'.repeat(32) }))).toBe('CORE_BAD_DOCUMENT');
  });

  it('rejects caller mistakes', () => {
    expect(() => commitWatermark({ ...opening, salt: new Uint8Array(16) })).toThrow(TypeError);
    expect(() => commitWatermark({ ...opening, scheme: '' })).toThrow(TypeError);
  });
});
