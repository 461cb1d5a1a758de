// The native XChaCha20-Poly1305 (HChaCha20 + Node's ChaCha20-Poly1305) against noble's
// implementation, both ways, and a tag that does not verify gives nothing back.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { xchachaOpen, xchachaSeal } from '../../src/blobs/index.js';

describe('XChaCha20-Poly1305 (native) matches noble', () => {
  it('seals what noble opens and opens what noble seals, for many sizes', () => {
    for (const size of [0, 1, 15, 16, 17, 63, 64, 65, 1000, 65_536 + 3]) {
      const key = randomBytes(32), nonce = randomBytes(24), aad = randomBytes(size % 50), pt = randomBytes(size);
      const ours = xchachaSeal(key, nonce, pt, aad);
      const theirs = xchacha20poly1305(key, nonce, aad).encrypt(pt);
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
      expect(Buffer.from(xchachaOpen(key, nonce, theirs, aad)!).equals(pt)).toBe(true);
    }
  });

  it('refuses a flipped bit anywhere, another nonce, other associated data', () => {
    const key = randomBytes(32), nonce = randomBytes(24), aad = Buffer.from('ad'), pt = randomBytes(100);
    const sealed = xchachaSeal(key, nonce, pt, aad);
    for (let i = 0; i < sealed.length; i += 7) {
      const bad = Buffer.from(sealed);
      bad[i] ^= 0x80;
      expect(xchachaOpen(key, nonce, bad, aad)).toBeUndefined();
    }
    expect(xchachaOpen(key, randomBytes(24), sealed, aad)).toBeUndefined();
    expect(xchachaOpen(key, nonce, sealed, Buffer.from('AD'))).toBeUndefined();
    expect(xchachaOpen(randomBytes(32), nonce, sealed, aad)).toBeUndefined();
    expect(xchachaOpen(key, nonce, sealed.subarray(0, 10), aad)).toBeUndefined();
  });
});
