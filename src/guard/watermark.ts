// Response watermarking after DAWN (Szyller et al., "DAWN: Dynamic Adversarial Watermarking of
// Neural Networks", ACM MM 2021). For each client a keyed function of the *quantised* input
// decides whether the answer is altered; altered answers carry a key-derived wrong label.
//
//  - quantise: an image is first moved by whole pixels so that its centre of mass sits at the
//    centre (so copies shifted by a few pixels, a thief's cheapest augmentation, coincide), then
//    averaged over 4x4-pixel blocks per channel (other inputs: 64 equal segments), and each mean
//    rounded to one of `levels` steps. Re-sending the same input gives the same bytes; small
//    noise rarely moves a block mean across a step, so a slightly perturbed or shifted input
//    usually gets the same decision (and the same answer).
//  - select: HMAC-SHA256(clientKey, "select" || q) read as a 64-bit fraction < rate.
//  - wrong label: the owner model's label y plus 1 + (HMAC(clientKey, "label" || q) mod (C-1)),
//    mod C: uniform over the C-1 other classes and independent of any other model's answer,
//    so an unrelated model agrees with it with probability at most 1/(C-1) (verify uses that).
//  - probabilities: the scores of y and the wrong label are swapped, so the distribution stays
//    a distribution, its top class is the wrong label, and re-asking gives the same numbers.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { sha256Latin1 } from '../../ledger/index.js';

export const DEFAULT_MARK_RATE = 0.005;
export const DEFAULT_LEVELS = 4;
const BLOCK = 4;
const SEGMENTS = 64;
const enc = new TextEncoder();
const SELECT = enc.encode('hallmark/guard/select/v1');
const LABEL = enc.encode('hallmark/guard/label/v1');

/** Per-client key: HMAC(watermarkKey, client id). Never leaves the process. */
export function deriveClientKey(watermarkKey: Uint8Array, clientId: string): Uint8Array {
  return hmac(sha256, watermarkKey, enc.encode(`hallmark/guard/client/v1/${clientId}`));
}

/**
 * Quantised form of one input of `dims` (without the batch axis), values expected in [0, 1]
 * (clamped). Images ([h, w, c] or [c, h, w] with a small c) are block-averaged; anything else is
 * averaged over 64 contiguous segments.
 */
export function quantiseInput(x: Float32Array, dims: readonly number[], levels = DEFAULT_LEVELS): Uint8Array {
  const means = dims.length === 3 && dims[2]! <= 4 ? centredMeans(x, dims[0]!, dims[1]!, dims[2]!) : blockMeans(x, dims);
  const q = new Uint8Array(means.length);
  for (let i = 0; i < means.length; i++) {
    const v = Math.min(1, Math.max(0, Number.isFinite(means[i]!) ? means[i]! : 0));
    q[i] = Math.min(levels - 1, Math.floor(v * levels));
  }
  return q;
}

/** Block means of the centred HWC image, read through the shift rather than from a moved copy. */
function centredMeans(x: Float32Array, h: number, w: number, c: number): Float64Array {
  if (h < BLOCK || w < BLOCK) return blockMeans(centreImage(x, h, w, c), [h, w, c]);
  const [dy, dx] = centreShift(x, h, w, c);
  return imageBlocksHwc(x, h, w, c, dy, dx);
}

/** Block means of a CHW image (small c), else means of 64 contiguous segments; HWC images go through centredMeans. */
function blockMeans(x: Float32Array, dims: readonly number[]): Float64Array {
  if (dims.length === 3 && dims[0]! <= 4 && dims[1]! >= BLOCK && dims[2]! >= BLOCK) return imageBlocks(x, dims[1]!, dims[2]!, dims[0]!, (y, xx, ch) => (ch * dims[1]! + y) * dims[2]! + xx);
  return segmentMeansInto(x, new Float64Array(Math.min(SEGMENTS, x.length)));
}

/** Means of out.length contiguous segments of x (segment s: [floor(s L / k), floor((s + 1) L / k))), into out. */
export function segmentMeansInto<T extends Float32Array | Float64Array>(x: Float32Array, out: T): T {
  const segs = out.length;
  for (let s = 0; s < segs; s++) {
    const from = Math.floor((s * x.length) / segs);
    const to = Math.floor(((s + 1) * x.length) / segs);
    let sum = 0;
    for (let i = from; i < to; i++) sum += x[i]!;
    out[s] = sum / (to - from);
  }
  return out;
}

// A typed array over 64 bytes costs microseconds to allocate (a fresh backing store each), more
// than the arithmetic here; the per-request path reuses this one (it never awaits holding it).
let f64Scratch = new Float64Array(0);
function scratch64(n: number): Float64Array {
  if (f64Scratch.length < n) f64Scratch = new Float64Array(n);
  return f64Scratch.subarray(0, n).fill(0);
}

/** The HWC image moved by whole pixels so that its centre of mass is at the centre (zero fill). */
export function centreImage(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const [dy, dx] = centreShift(x, h, w, c);
  if (dy === 0 && dx === 0) return x;
  const out = new Float32Array(x.length);
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
    const sy = y - dy;
    const sx = xx - dx;
    if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
    for (let ch = 0; ch < c; ch++) out[(y * w + xx) * c + ch] = x[(sy * w + sx) * c + ch]!;
  }
  return out;
}

/** The whole-pixel shift [dy, dx] that centres the image's mass of max(0, value); [0, 0] when it has none. */
function centreShift(x: Float32Array, h: number, w: number, c: number): [number, number] {
  let mass = 0;
  let my = 0;
  let mx = 0;
  let nan = false;
  // max(0, v) summed in pixel order; the zeros it adds change nothing, so only positive values
  // are added (the same sums to the bit), and a NaN poisons the mass as it would in the sum.
  // RGB pixels have their three channels written out (the same additions in the same order): the
  // loop over three channels cost more than the sums.
  if (c === 3) {
    for (let y = 0, p = 0; y < h; y++) for (let xx = 0; xx < w; xx++, p += 3) {
      const v0 = x[p]!;
      const v1 = x[p + 1]!;
      const v2 = x[p + 2]!;
      if (v0 > 0) {
        mass += v0;
        my += v0 * y;
        mx += v0 * xx;
      } else if (v0 !== v0) nan = true;
      if (v1 > 0) {
        mass += v1;
        my += v1 * y;
        mx += v1 * xx;
      } else if (v1 !== v1) nan = true;
      if (v2 > 0) {
        mass += v2;
        my += v2 * y;
        mx += v2 * xx;
      } else if (v2 !== v2) nan = true;
    }
  } else if (c === 1) {
    // Grey: the same additions without the loop over one channel (a third faster).
    for (let y = 0, p = 0; y < h; y++) {
      const end = p + w;
      for (let xx = 0; p < end; xx++, p++) {
        const v = x[p]!;
        if (v > 0) {
          mass += v;
          my += v * y;
          mx += v * xx;
        } else if (v !== v) nan = true;
      }
    }
  } else {
    for (let y = 0, p = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++, p++) {
      const v = x[p]!;
      if (v > 0) {
        mass += v;
        my += v * y;
        mx += v * xx;
      } else if (v !== v) nan = true;
    }
  }
  if (nan || !(mass > 0)) return [0, 0];
  return [Math.round((h - 1) / 2 - my / mass), Math.round((w - 1) / 2 - mx / mass)];
}

/**
 * Block means of the HWC image shifted by (dy, dx) with zero fill, in one pass over the pixels:
 * each block still adds its pixels in row-major order (a zero adds nothing), so the means are
 * those of imageBlocks over the moved copy, to the bit.
 */
function imageBlocksHwc(x: Float32Array, h: number, w: number, c: number, dy: number, dx: number): Float64Array {
  const bh = Math.ceil(h / BLOCK);
  const bw = Math.ceil(w / BLOCK);
  const sums = scratch64(bh * bw * c);
  // Only the pixels that land inside (sy, sx in range) add anything: loop over exactly those,
  // in the same order, without a test per pixel.
  const x0 = Math.max(0, dx);
  const x1 = Math.min(w, w + dx);
  // Each (block, channel) sum is carried in a local across the block's pixels of the row: the
  // same additions in the same order as adding into the array, without a load and store each.
  for (let y = Math.max(0, dy); y < Math.min(h, h + dy); y++) {
    const rowBlock = Math.floor(y / BLOCK) * bw;
    const rowStart = ((y - dy) * w - dx) * c; // x index of pixel xx is rowStart + xx * c
    for (let xa = x0; xa < x1; ) {
      const xb = Math.min(x1, (((xa / BLOCK) | 0) + 1) * BLOCK);
      const o = (rowBlock + ((xa / BLOCK) | 0)) * c;
      if (xb - xa === BLOCK && c === 1) {
        const p = rowStart + xa;
        sums[o] = sums[o]! + x[p]! + x[p + 1]! + x[p + 2]! + x[p + 3]!;
        xa = xb;
        continue;
      }
      if (xb - xa === BLOCK && c === 3) {
        // A whole block row of an RGB image: the four additions per channel written out, in order.
        const p = rowStart + xa * 3;
        sums[o] = sums[o]! + x[p]! + x[p + 3]! + x[p + 6]! + x[p + 9]!;
        sums[o + 1] = sums[o + 1]! + x[p + 1]! + x[p + 4]! + x[p + 7]! + x[p + 10]!;
        sums[o + 2] = sums[o + 2]! + x[p + 2]! + x[p + 5]! + x[p + 8]! + x[p + 11]!;
        xa = xb;
        continue;
      }
      for (let ch = 0; ch < c; ch++) {
        let acc = sums[o + ch]!;
        for (let xx = xa, p = rowStart + xa * c + ch; xx < xb; xx++, p += c) acc += x[p]!;
        sums[o + ch] = acc;
      }
      xa = xb;
    }
  }
  for (let by = 0; by < bh; by++) {
    const rows = Math.min(h, (by + 1) * BLOCK) - by * BLOCK;
    for (let bx = 0; bx < bw; bx++) {
      const n = rows * (Math.min(w, (bx + 1) * BLOCK) - bx * BLOCK);
      for (let ch = 0; ch < c; ch++) sums[(by * bw + bx) * c + ch] = sums[(by * bw + bx) * c + ch]! / n;
    }
  }
  return sums;
}

function imageBlocks(x: Float32Array, h: number, w: number, c: number, at: (y: number, x: number, ch: number) => number): Float64Array {
  const bh = Math.ceil(h / BLOCK);
  const bw = Math.ceil(w / BLOCK);
  const out = new Float64Array(bh * bw * c);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      for (let ch = 0; ch < c; ch++) {
        let sum = 0;
        let n = 0;
        for (let y = by * BLOCK; y < Math.min(h, (by + 1) * BLOCK); y++) {
          for (let xx = bx * BLOCK; xx < Math.min(w, (bx + 1) * BLOCK); xx++) {
            sum += x[at(y, xx, ch)]!;
            n++;
          }
        }
        out[(by * bw + bx) * c + ch] = sum / n;
      }
    }
  }
  return out;
}

// HMAC-SHA256 (RFC 2104) from the key's two padded blocks, kept per key, and node:crypto's one-shot
// SHA-256: H((K ^ opad) || H((K ^ ipad) || m)). 1.3 us a call where createHmac, which imports
// the key and builds a stream object each time, took 3.3 (the guard makes one or two per input).
const BLOCK_BYTES = 64;
interface Pads {
  /** K ^ ipad, then room for the message. */
  inner: Buffer;
  /** K ^ opad, then the inner digest. */
  readonly outer: Buffer;
}
const padsOf = new WeakMap<Uint8Array, Pads>();

function pads(key: Uint8Array): Pads {
  let p = padsOf.get(key);
  if (!p) {
    const k = key.length > BLOCK_BYTES ? sha256(key) : key;
    const inner = Buffer.alloc(BLOCK_BYTES + 256, 0);
    const outer = Buffer.alloc(BLOCK_BYTES + 32, 0);
    inner.set(k);
    outer.set(k);
    for (let i = 0; i < BLOCK_BYTES; i++) {
      inner[i]! ^= 0x36;
      outer[i]! ^= 0x5c;
    }
    p = { inner, outer };
    padsOf.set(key, p);
  }
  return p;
}

/** HMAC-SHA256(key, label || q) (RFC 2104; tested on RFC 4231's vectors). The key's pads are cached by identity: callers keep one key array per client. */
export function hmacSha256(key: Uint8Array, label: Uint8Array, q: Uint8Array): Uint8Array {
  const p = pads(key);
  const n = BLOCK_BYTES + label.length + q.length;
  if (p.inner.length < n) {
    const grown = Buffer.alloc(n * 2);
    p.inner.copy(grown, 0, 0, BLOCK_BYTES);
    p.inner = grown;
  }
  p.inner.set(label, BLOCK_BYTES);
  p.inner.set(q, BLOCK_BYTES + label.length);
  p.outer.write(sha256Latin1(p.inner.subarray(0, n)), BLOCK_BYTES, 'latin1');
  return Buffer.from(sha256Latin1(p.outer), 'latin1');
}

/** The first 8 bytes as a fraction in [0, 1). */
function fraction(d: Uint8Array): number {
  const v = new DataView(d.buffer, d.byteOffset, 8);
  return (v.getUint32(0) * 2 ** 32 + v.getUint32(4)) / 2 ** 64;
}

export interface MarkDecision {
  readonly selected: boolean;
  /** The wrong label to answer when selected (undefined otherwise). */
  readonly label?: number;
}

/** The keyed decision for one quantised input whose true (owner-model) label is `label`. */
export function decideMark(clientKey: Uint8Array, q: Uint8Array, label: number, classes: number, rate = DEFAULT_MARK_RATE): MarkDecision {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`mark rate must be in [0, 1], got ${rate}`);
  if (!Number.isSafeInteger(classes) || classes < 2) throw new RangeError(`classes must be an integer >= 2, got ${classes}`);
  if (fraction(hmacSha256(clientKey, SELECT, q)) >= rate) return { selected: false };
  const d = hmacSha256(clientKey, LABEL, q);
  const shift = 1 + (new DataView(d.buffer, d.byteOffset, 4).getUint32(0) % (classes - 1));
  return { selected: true, label: (label + shift) % classes };
}

/** Index of the largest score of a row. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
  return best;
}

/** The altered row: the scores of `from` and `to` swapped (a distribution stays one). */
export function alterScores(row: Float32Array, from: number, to: number): Float32Array {
  const out = Float32Array.from(row);
  out[from] = row[to]!;
  out[to] = row[from]!;
  // Ties: make sure the wrong label is the strict argmax.
  if (argmax(out) !== to) out[to] = out[argmax(out)]! + Math.max(1e-6, Math.abs(out[argmax(out)]!) * 1e-6);
  return out;
}
