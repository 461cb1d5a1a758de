// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) with Node's native ChaCha20-Poly1305: the 24-byte
// nonce's first 16 bytes and the key give a subkey by HChaCha20 (noble's), and the last 8 bytes,
// after four zero bytes, are the IETF nonce. Same output as noble's xchacha20poly1305 (the tests
// compare them), about three times faster on large chunks.
import { hchacha } from '@noble/ciphers/chacha.js';
import { createCipheriv, createDecipheriv } from 'node:crypto';

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
const TAG = 16;

function words(bytes: Uint8Array, n: number): Uint32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, true);
  return out;
}

function subkey(key: Uint8Array, nonce: Uint8Array): Buffer {
  if (key.length !== 32) throw new RangeError('XChaCha20-Poly1305 key must be 32 bytes');
  if (nonce.length !== 24) throw new RangeError('XChaCha20-Poly1305 nonce must be 24 bytes');
  const out = new Uint32Array(8);
  hchacha(SIGMA, words(key, 8), words(nonce.subarray(0, 16), 4), out);
  const buf = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) buf.writeUInt32LE(out[i]!, i * 4);
  return buf;
}

function ietfNonce(nonce: Uint8Array): Buffer {
  const n = Buffer.alloc(12);
  n.set(nonce.subarray(16, 24), 4);
  return n;
}

/** ciphertext || 16-byte tag. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const k = subkey(key, nonce);
  const c = createCipheriv('chacha20-poly1305', k, ietfNonce(nonce), { authTagLength: TAG });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const out = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  k.fill(0);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The plaintext, or undefined when the tag does not verify (never partial output). */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  if (sealed.length < TAG) return undefined;
  const k = subkey(key, nonce);
  try {
    const d = createDecipheriv('chacha20-poly1305', k, ietfNonce(nonce), { authTagLength: TAG });
    d.setAAD(aad, { plaintextLength: sealed.length - TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    const body = d.update(sealed.subarray(0, sealed.length - TAG));
    d.final(); // throws when the tag is wrong; body is then discarded
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  } catch {
    return undefined;
  } finally {
    k.fill(0);
  }
}
