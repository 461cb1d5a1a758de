// The guard's hot path was rewritten for speed (one pass, no moved copy, node:crypto's HMAC). Marks
// already journalled and committed name inputs by their quantised bytes and were decided by the
// first implementation, so the new one must give the same bytes and the same decisions to the bit.
// The reference below is that first implementation, written out plainly from the spec in
// watermark.ts (block means of the centred image, HMAC-SHA256 on @noble/hashes).
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/formats/mnist.js';
import { decideMark, ExtractionMonitor, monitorFeatures, quantiseInput } from '../../src/guard/index.js';
import { DEFAULT_LEVELS, hmacSha256 } from '../../src/guard/watermark.js';
import { samplePhoto } from '../helpers/photos.js';

const BLOCK = 4;

function refCentre(x: Float32Array, h: number, w: number, c: number): Float32Array {
  let mass = 0;
  let my = 0;
  let mx = 0;
  for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) {
    const v = Math.max(0, x[(y * w + xx) * c + ch]!);
    mass += v;
    my += v * y;
    mx += v * xx;
  }
  if (!(mass > 0)) return x;
  const dy = Math.round((h - 1) / 2 - my / mass);
  const dx = Math.round((w - 1) / 2 - mx / mass);
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

function refBlocks(x: Float32Array, h: number, w: number, c: number, at: (y: number, x: number, ch: number) => number): number[] {
  const out: number[] = [];
  for (let by = 0; by < Math.ceil(h / BLOCK); by++) for (let bx = 0; bx < Math.ceil(w / BLOCK); bx++) for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    let n = 0;
    for (let y = by * BLOCK; y < Math.min(h, (by + 1) * BLOCK); y++) for (let xx = bx * BLOCK; xx < Math.min(w, (bx + 1) * BLOCK); xx++) {
      sum += x[at(y, xx, ch)]!;
      n++;
    }
    out.push(sum / n);
  }
  return out;
}

function refQuantise(x0: Float32Array, dims: number[], levels = DEFAULT_LEVELS): Uint8Array {
  const x = dims.length === 3 && dims[2]! <= 4 ? refCentre(x0, dims[0]!, dims[1]!, dims[2]!) : x0;
  let means: number[];
  if (dims.length === 3 && dims[2]! <= 4 && dims[0]! >= BLOCK && dims[1]! >= BLOCK) means = refBlocks(x, dims[0]!, dims[1]!, dims[2]!, (y, xx, ch) => (y * dims[1]! + xx) * dims[2]! + ch);
  else if (dims.length === 3 && dims[0]! <= 4 && dims[1]! >= BLOCK && dims[2]! >= BLOCK) means = refBlocks(x, dims[1]!, dims[2]!, dims[0]!, (y, xx, ch) => (ch * dims[1]! + y) * dims[2]! + xx);
  else {
    const segs = Math.min(64, x.length);
    means = Array.from({ length: segs }, (_, s) => {
      const from = Math.floor((s * x.length) / segs);
      const to = Math.floor(((s + 1) * x.length) / segs);
      let sum = 0;
      for (let i = from; i < to; i++) sum += x[i]!;
      return sum / (to - from);
    });
  }
  return Uint8Array.from(means, (m) => Math.min(levels - 1, Math.floor(Math.min(1, Math.max(0, Number.isFinite(m) ? m : 0)) * levels)));
}

function refDecide(key: Uint8Array, q: Uint8Array, label: number, classes: number, rate: number): { selected: boolean; label?: number } {
  const mac = (tag: string) => hmac(sha256, key, new Uint8Array([...new TextEncoder().encode(tag), ...q]));
  const s = new DataView(mac('hallmark/guard/select/v1').buffer);
  if ((s.getUint32(0) * 2 ** 32 + s.getUint32(4)) / 2 ** 64 >= rate) return { selected: false };
  const shift = 1 + (new DataView(mac('hallmark/guard/label/v1').buffer).getUint32(0) % (classes - 1));
  return { selected: true, label: (label + shift) % classes };
}

const mnist = await loadMnist({ seed: 0 });

describe('the guard quantises and decides exactly as its first implementation did', () => {
  it('on 2,000 real MNIST digits, shifted and unshifted', () => {
    for (let i = 0; i < 2000; i++) {
      const x = mnist.test.images.slice(i * 784, (i + 1) * 784);
      const shifted = new Float32Array(784);
      for (let p = 0; p < 784 - 3 * 28 - 2; p++) shifted[p + 3 * 28 + 2] = x[p]!;
      for (const v of [x, shifted]) expect(Buffer.from(quantiseInput(v, [28, 28, 1])).toString('hex')).toBe(Buffer.from(refQuantise(v, [28, 28, 1])).toString('hex'));
    }
  });

  const dimsArb = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 4 })).map(([h, w, c]) => [h, w, c]), // HWC, small and odd
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 4, max: 11 }), fc.integer({ min: 5, max: 11 })).map(([c, h, w]) => [c, h, w]), // CHW
    fc.integer({ min: 1, max: 300 }).map((n) => [n]), // not an image: segments
  );
  const value = fc.oneof(
    { weight: 12, arbitrary: fc.float({ min: -0.5, max: 1.5, noNaN: true }) },
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0) },
  );

  it('on real photos at 224x224x3 (face-api demo samples), with the content off centre', () => {
    for (let k = 1; k <= 6; k++) {
      const x = samplePhoto(k);
      const dark = x.map((v, i) => (Math.floor(i / 3) % 224 < 150 ? 0 : v)); // mass pushed right: a large centring shift
      for (const v of [x, dark]) expect(Buffer.from(quantiseInput(v, [224, 224, 3])).toString('hex')).toBe(Buffer.from(refQuantise(v, [224, 224, 3])).toString('hex'));
    }
  });

  it('on random shapes and values (NaN, infinities, negatives, blank images)', () => {
    fc.assert(fc.property(dimsArb.chain((dims) => fc.tuple(fc.constant(dims), fc.array(value, { minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) }))), ([dims, values]) => {
      const x = Float32Array.from(values);
      expect(Array.from(quantiseInput(x, dims))).toEqual(Array.from(refQuantise(x, dims)));
    }), { numRuns: 400, seed: 11 });
  });

  it('the monitor\'s block features of RGB images are the plain loop\'s, to the bit (photos and random sizes)', () => {
    // The plain loop: every value times 1/k^2 added into its block's float32 sum, in pixel order.
    const refFeatures = (x: Float32Array, h: number, w: number): Float32Array => {
      const k = Math.max(2, Math.ceil(Math.sqrt((h * w * 3) / 1024)));
      const bw = Math.ceil(w / k);
      const out = new Float32Array(Math.ceil(h / k) * bw * 3);
      const inv = 1 / (k * k);
      for (let y = 0, p = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < 3; ch++, p++) out[(Math.floor(y / k) * bw + Math.floor(xx / k)) * 3 + ch]! += x[p]! * inv;
      return out;
    };
    const same = (a: Float32Array, b: Float32Array) => expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex')).toBe(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
    for (let k = 1; k <= 3; k++) same(monitorFeatures(samplePhoto(k), [224, 224, 3]), refFeatures(samplePhoto(k), 224, 224));
    fc.assert(fc.property(fc.integer({ min: 38, max: 70 }), fc.integer({ min: 38, max: 70 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (h, w, seed) => {
      let r = seed;
      const x = Float32Array.from({ length: h * w * 3 }, () => {
        r = (r * 1103515245 + 12345) >>> 0;
        return r % 97 === 0 ? [Number.NaN, Infinity, -Infinity, -0][r % 4]! : (r / 2 ** 32) * 2 - 0.5;
      });
      same(monitorFeatures(x, [h, w, 3]), refFeatures(x, h, w));
    }), { numRuns: 100, seed: 14 });
  });

  it('the monitor\'s 2x2 features of grey images are the plain loop\'s, to the bit (MNIST digits, random even and odd sizes)', () => {
    // The plain loop: every value divided by 4 added into its block's float32 sum, in pixel order.
    const refGrey = (x: Float32Array, h: number, w: number): Float32Array => {
      const bw = Math.ceil(w / 2);
      const out = new Float32Array(Math.ceil(h / 2) * bw);
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) out[(y >> 1) * bw + (xx >> 1)]! += x[y * w + xx]! / 4;
      return out;
    };
    const same = (a: Float32Array, b: Float32Array) => expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex')).toBe(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
    for (let i = 0; i < 500; i++) {
      const x = mnist.test.images.slice(i * 784, (i + 1) * 784);
      same(monitorFeatures(x, [28, 28, 1]), refGrey(x, 28, 28));
    }
    fc.assert(fc.property(fc.integer({ min: 1, max: 31 }), fc.integer({ min: 1, max: 31 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (h, w, seed) => {
      let r = seed;
      const x = Float32Array.from({ length: h * w }, () => {
        r = (r * 1103515245 + 12345) >>> 0;
        return r % 29 === 0 ? [Number.NaN, Infinity, -Infinity, -0][r % 4]! : (r / 2 ** 32) * 2 - 0.5;
      });
      same(monitorFeatures(x, [h, w, 1]), refGrey(x, h, w));
    }), { numRuns: 300, seed: 15 });
  });

  it('decides the same marks and labels (rate 0.3 so both branches run)', () => {
    // Keys shorter and longer than SHA-256's 64-byte block, inputs longer than the pads' first room.
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 100, size: 'max' }), fc.uint8Array({ minLength: 1, maxLength: 400, size: 'max' }), fc.integer({ min: 0, max: 9 }), (key, q, label) => {
      expect(decideMark(key, q, label, 10, 0.3)).toEqual(refDecide(key, q, label, 10, 0.3));
    }), { numRuns: 300, seed: 12 });
  });

  it('its HMAC-SHA256 gives RFC 4231\'s published results (keys of 4 to 131 bytes, the message split anywhere)', () => {
    const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
    const text = (t: string) => new TextEncoder().encode(t);
    const cases: [Uint8Array, Uint8Array, string][] = [
      [new Uint8Array(20).fill(0x0b), text('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
      [text('Jefe'), text('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
      [new Uint8Array(20).fill(0xaa), new Uint8Array(50).fill(0xdd), '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
      [hex('0102030405060708090a0b0c0d0e0f10111213141516171819'), new Uint8Array(50).fill(0xcd), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
      [new Uint8Array(131).fill(0xaa), text('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
      [new Uint8Array(131).fill(0xaa), text('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'), '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
    ];
    for (const [k, m, want] of cases) {
      for (const cut of [0, 3, m.length]) {
        const key = Uint8Array.from(k); // a fresh array: its pads are computed, not cached from another case
        expect(Buffer.from(hmacSha256(key, m.subarray(0, cut), m.subarray(cut))).toString('hex')).toBe(want);
        expect(Buffer.from(hmacSha256(key, m.subarray(0, cut), m.subarray(cut))).toString('hex')).toBe(want); // from the cached pads
      }
    }
  });

  it('decides the same with one key array reused for many inputs of changing length', () => {
    // The HMAC pads are cached per key array: a later, shorter input must not see an earlier one's bytes.
    const key = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 5) & 255);
    const other = Uint8Array.from(key, (b) => b ^ 1);
    fc.assert(fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 600, size: 'max' }), { minLength: 1, maxLength: 20 }), (qs) => {
      for (const q of qs) {
        expect(decideMark(key, q, 3, 10, 0.5)).toEqual(refDecide(key, q, 3, 10, 0.5));
        expect(decideMark(other, q, 3, 10, 0.5)).toEqual(refDecide(other, q, 3, 10, 0.5));
      }
    }), { numRuns: 100, seed: 13 });
  });

  it('the monitor keeps copies of the features it stores, not the buffer it reuses', () => {
    const m = new ExtractionMonitor({ minQueries: 1000 });
    const a = mnist.test.images.slice(0, 784);
    const b = mnist.test.images.slice(784, 2 * 784);
    m.observe('c', a, [28, 28, 1], 3); // a joins class 3's set
    m.observe('c', b, [28, 28, 1], 3); // b's distance is to a's stored features
    const fa = monitorFeatures(a, [28, 28, 1]);
    const fb = monitorFeatures(b, [28, 28, 1]);
    const expected = Math.sqrt(fa.reduce((s, v, i) => s + (v - fb[i]!) ** 2, 0));
    const distances = (m as unknown as { clients: Map<string, { distances: number[] }> }).clients.get('c')!.distances;
    expect(distances).toHaveLength(1);
    expect(distances[0]).toBeCloseTo(expected, 5);
    expect(expected).toBeGreaterThan(1);
  });
});
