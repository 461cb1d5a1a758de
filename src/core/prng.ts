// A seeded, portable generator for the randomness that must be reproducible (projection
// matrices, trigger sets). Anyone holding the 32-byte key can regenerate every value in any
// language from this specification:
//
//   stream    ChaCha20 (RFC 8439) keystream, key = the 32-byte seed, nonce = 12 zero bytes,
//             block counter starting at 0. One seed feeds one stream, so the fixed nonce is safe:
//             seeds come from HKDF with a distinct label per purpose (derive.ts).
//   uint32    the next 4 keystream bytes, little-endian.
//   float     53 bits from two uint32 a, b: ((a >>> 5) * 2^26 + (b >>> 6)) / 2^53, in [0, 1).
//   int(n)    uniform in [0, n), 1 <= n <= 2^32, by rejection: draw x, retry while
//             x >= 2^32 - (2^32 mod n), return x mod n (no modulo bias).
//   gaussian  Box-Muller on two floats u, v: r = sqrt(-2 ln(1 - u)), returns r cos(2 pi v),
//             and the following call returns r sin(2 pi v) (pairs are never split differently).
//
// Integers, floats and bytes are exact everywhere. Gaussians use Math.log / cos / sin, which
// V8 computes with fdlibm ports on every platform; another runtime may differ in the last bit
// of the float64, which rounding to float32 hides almost always and which the sign of a
// projection (all the watermark needs) does not notice.
import { chacha20 } from '@noble/ciphers/chacha.js';

const BLOCK_BYTES = 64;
const REFILL_BLOCKS = 64;
const MAX_BLOCKS = 2 ** 32; // the RFC 8439 block counter is 32 bits
const TWO_26 = 2 ** 26;
const TWO_53 = 2 ** 53;
const TWO_32 = 2 ** 32;

export interface Prng {
  /** The next keystream bytes, copied. */
  nextBytes(n: number): Uint8Array;
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float64 in [0, 1) with 53 random bits. */
  nextFloat(): number;
  /** Uniform integer in [0, n) without bias; 1 <= n <= 2^32. */
  nextInt(n: number): number;
  /** Standard normal sample (Box-Muller). */
  nextGaussian(): number;
  /** Fills `out` with what `out.length` calls of nextGaussian would return. */
  fillGaussian(out: Float32Array | Float64Array): void;
  /** Fills `out` with what `out.length` calls of nextFloat would return. */
  fillFloat(out: Float32Array | Float64Array): void;
}

/** A generator over the ChaCha20 keystream of a 32-byte seed (see the specification above). */
export function createPrng(seed: Uint8Array): Prng {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('prng seed must be a 32-byte Uint8Array');
  const key = Uint8Array.from(seed);
  const nonce = new Uint8Array(12);
  const zeros = new Uint8Array(REFILL_BLOCKS * BLOCK_BYTES);
  let buf = new Uint8Array(0);
  let view = new DataView(buf.buffer);
  let pos = 0;
  let counter = 0;
  let spare: number | undefined;

  const refill = (): void => {
    if (counter + REFILL_BLOCKS > MAX_BLOCKS) throw new RangeError('prng stream exhausted (2^32 ChaCha20 blocks)');
    buf = chacha20(key, nonce, zeros, undefined, counter);
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    counter += REFILL_BLOCKS;
    pos = 0;
  };

  const nextBytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      if (pos >= buf.length) refill();
      const take = Math.min(n - off, buf.length - pos);
      out.set(buf.subarray(pos, pos + take), off);
      pos += take;
      off += take;
    }
    return out;
  };

  const nextUint32 = (): number => {
    // After nextBytes the position may be unaligned; the stream is a byte stream, so a word
    // that straddles a refill is read across it rather than skipped.
    if (pos + 4 > buf.length) {
      const b = nextBytes(4);
      return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    }
    const x = view.getUint32(pos, true);
    pos += 4;
    return x;
  };

  const nextFloat = (): number => {
    const a = nextUint32() >>> 5;
    const b = nextUint32() >>> 6;
    return (a * TWO_26 + b) / TWO_53;
  };

  const nextGaussian = (): number => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    const u = nextFloat();
    const v = nextFloat();
    const r = Math.sqrt(-2 * Math.log(1 - u));
    const theta = 2 * Math.PI * v;
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };

  return {
    nextBytes(n) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`byte count must be a non-negative integer, got ${n}`);
      return nextBytes(n);
    },
    nextUint32,
    nextFloat,
    nextInt(n) {
      if (!Number.isSafeInteger(n) || n < 1 || n > TWO_32) throw new RangeError(`int range must be an integer in [1, 2^32], got ${n}`);
      const limit = TWO_32 - (TWO_32 % n);
      let x = nextUint32();
      while (x >= limit) x = nextUint32();
      return x % n;
    },
    nextGaussian,
    fillGaussian(out) {
      for (let i = 0; i < out.length; i++) out[i] = nextGaussian();
    },
    fillFloat(out) {
      for (let i = 0; i < out.length; i++) out[i] = nextFloat();
    },
  };
}
