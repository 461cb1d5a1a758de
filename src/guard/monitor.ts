// Extraction monitoring after PRADA (Juuti, Szyller, Marchal, Asokan, "PRADA: Protecting
// Against DNN Model Stealing Attacks", EuroS&P 2019). Per client and per predicted class the
// guard keeps a growing set G_c of earlier queries. For each new query x of class c:
//   d = min distance from x to G_c (L2, on 2x2 block means of images to keep it cheap; larger
//   blocks, or segment means for other inputs, keep every query to at most 1,024 features);
//   d joins the client's distance list D; x joins G_c only when d > mean(D_c) - std(D_c).
// Natural queries give distances that look roughly normal; synthetic queries built by small
// steps from a few seeds (Jacobian augmentation, Papernot et al. 2017) give a peaked, skewed D.
// Once D holds `minQueries` values, every `testEvery` queries (or every 2% of D's length, when
// that is more: at most every 100 queries for the full 5,000, so a long stream does not sort 5,000
// values every 20 queries) the Shapiro-Wilk W of (the last 5000 values of) D is compared with
// `threshold` (PRADA's delta): W < delta is an alert.
// Query rate and volume are tracked beside it (metrics, and an optional volume alert).
//
// What it cannot see: an attacker who queries with natural data (the distances look natural),
// one who spreads queries over many colluding keys (each stream is short and looks benign), or
// one who stays under minQueries per key.
import { shapiroWilk, SHAPIRO_MAX_N } from '../core/index.js';
import { segmentMeansInto } from './watermark.js';

export interface MonitorOptions {
  /** Shapiro-Wilk W below which a stream is flagged (PRADA's delta; default 0.95). */
  readonly threshold?: number;
  /** Distances needed before the first test (default 100). */
  readonly minQueries?: number;
  /** Test every this many new distances (default 20). */
  readonly testEvery?: number;
  /** Flag a client once it has sent this many queries in all (default: off). */
  readonly volumeAlert?: number;
  /** Most queries kept per class in G_c (default 1000). */
  readonly maxPerClass?: number;
}

export interface ClientStats {
  readonly queries: number;
  /** Queries in the last minute. */
  readonly ratePerMinute: number;
  readonly lastW?: number;
  readonly distances: number;
  readonly suspected: boolean;
}

export interface Suspicion {
  readonly client: string;
  readonly queries: number;
  readonly reason: 'shapiro-wilk' | 'volume';
  readonly n: number;
  readonly w: number;
  readonly threshold: number;
  readonly ratePerMinute: number;
}

interface ClientState {
  queries: number;
  groups: Map<number, { feats: Float32Array[]; sum: number; sumSq: number; n: number }>;
  distances: number[];
  sinceTest: number;
  lastW?: number;
  suspected: boolean;
  /** Queries per second over the last 60 s, a ring of (second, count): O(1) per query. */
  rate: { second: Float64Array; count: Uint32Array };
}

function countRate(r: ClientState['rate'], t: number, add: number): number {
  const sec = Math.floor(t / 1000);
  const i = sec % 60;
  if (r.second[i] !== sec) {
    r.second[i] = sec;
    r.count[i] = 0;
  }
  r.count[i]! += add;
  let total = 0;
  for (let k = 0; k < 60; k++) if (r.second[k]! > sec - 60) total += r.count[k]!;
  return total;
}

export const MONITOR_DEFAULTS = { threshold: 0.95, minQueries: 100, testEvery: 20, maxPerClass: 1000 } as const;

/**
 * 2x2 block means of an image (NHWC without batch; larger blocks past MONITOR_MAX_FEATURES), or
 * the input itself when it is not one (segment means past MONITOR_MAX_FEATURES).
 */
export function monitorFeatures(x: Float32Array, dims: readonly number[]): Float32Array {
  return monitorFeaturesInto(x, dims, (n) => new Float32Array(n));
}

/**
 * Most features the monitor keeps per query. Larger inputs are averaged over bigger blocks (a
 * 224x224x3 image: 13x13 blocks, 972 features) or, when not images, over contiguous segments, so
 * the nearest-neighbour scan costs about what it costs for MNIST (196 features) whatever the input.
 */
export const MONITOR_MAX_FEATURES = 1024;

const isImage = (dims: readonly number[]) => dims.length === 3 && dims[2]! <= 4;

/** Side of the square blocks an image of `dims` is averaged over: 2, or more for large images. */
function imageBlock(dims: readonly number[]): number {
  return Math.max(2, Math.ceil(Math.sqrt((dims[0]! * dims[1]! * dims[2]!) / MONITOR_MAX_FEATURES)));
}

/** Length of monitorFeatures' output for inputs of `dims`. */
export function monitorFeatureSize(dims: readonly number[]): number {
  if (!isImage(dims)) return Math.min(MONITOR_MAX_FEATURES, dims.reduce((a, b) => a * b, 1));
  const k = imageBlock(dims);
  return Math.ceil(dims[0]! / k) * Math.ceil(dims[1]! / k) * dims[2]!;
}

/** monitorFeatures of each of n inputs into `out`, one after the other from query `at` on (the worker's batch). */
export function monitorFeatureBatchInto(x: Float32Array, dims: readonly number[], n: number, out: Float32Array, at: number): void {
  const size = dims.reduce((a, b) => a * b, 1);
  const fsize = monitorFeatureSize(dims);
  if ((at + n) * fsize > out.length) throw new RangeError('monitor features: the batch is full');
  for (let i = 0; i < n; i++) monitorFeaturesInto(x.subarray(i * size, (i + 1) * size), dims, () => out.subarray((at + i) * fsize, (at + i + 1) * fsize).fill(0));
}

/** monitorFeatures into `room(size)` (zeroed). */
function monitorFeaturesInto(x: Float32Array, dims: readonly number[], room: (n: number) => Float32Array): Float32Array {
  if (!isImage(dims)) {
    if (x.length <= MONITOR_MAX_FEATURES) {
      const copy = room(x.length);
      copy.set(x);
      return copy;
    }
    return segmentMeansInto(x, room(MONITOR_MAX_FEATURES));
  }
  const [h, w, c] = dims as [number, number, number];
  const k = imageBlock(dims);
  const bw = Math.ceil(w / k);
  const out = room(Math.ceil(h / k) * bw * c);
  if (k === 2) {
    if (c === 1 && h % 2 === 0 && w % 2 === 0) return greyPairMeans(x, h, w, out);
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let ch = 0; ch < c; ch++) out[((y >> 1) * bw + (xx >> 1)) * c + ch]! += x[(y * w + xx) * c + ch]! / 4;
    return out;
  }
  const inv = 1 / (k * k);
  if (c === 3) return rgbBlockMeans(x, h, w, k, bw, inv, out);
  for (let y = 0, p = 0; y < h; y++) {
    const row = ((y / k) | 0) * bw;
    for (let xx = 0; xx < w; xx++) {
      const at = (row + ((xx / k) | 0)) * c;
      for (let ch = 0; ch < c; ch++, p++) out[at + ch]! += x[p]! * inv;
    }
  }
  return out;
}

/**
 * The 2x2 block means of a grey image of even sides (MNIST) as the general loop computes them:
 * each block's four values divided by 4 and added in pixel order (its top pair, then its bottom
 * pair), each addition rounded to float32, here in a local instead of a store per value.
 */
function greyPairMeans(x: Float32Array, h: number, w: number, out: Float32Array): Float32Array {
  const f = Math.fround;
  const bw = w >> 1;
  for (let by = 0; by < h >> 1; by++) {
    const top = 2 * by * w;
    for (let bx = 0, at = by * bw; bx < bw; bx++, at++) {
      const p = top + 2 * bx;
      let s = f(out[at]! + x[p]! / 4);
      s = f(s + x[p + 1]! / 4);
      s = f(s + x[p + w]! / 4);
      out[at] = f(s + x[p + w + 1]! / 4);
    }
  }
  return out;
}

/**
 * The k x k block means of an RGB image as the general loop computes them (each addition rounded
 * to float32, in pixel order), a block row at a time with the three sums in locals: the general
 * loop's division and stores per value cost more than the additions.
 */
function rgbBlockMeans(x: Float32Array, h: number, w: number, k: number, bw: number, inv: number, out: Float32Array): Float32Array {
  const f = Math.fround;
  for (let y = 0; y < h; y++) {
    const row = ((y / k) | 0) * bw;
    for (let bx = 0; bx < bw; bx++) {
      const at = (row + bx) * 3;
      let a0 = out[at]!;
      let a1 = out[at + 1]!;
      let a2 = out[at + 2]!;
      const end = (y * w + Math.min(w, (bx + 1) * k)) * 3;
      for (let p = (y * w + bx * k) * 3; p < end; p += 3) {
        a0 = f(a0 + x[p]! * inv);
        a1 = f(a1 + x[p + 1]! * inv);
        a2 = f(a2 + x[p + 2]! * inv);
      }
      out[at] = a0;
      out[at + 1] = a1;
      out[at + 2] = a2;
    }
  }
  return out;
}

function minDistance(f: Float32Array, set: readonly Float32Array[]): number {
  let best = Infinity;
  for (const g of set) {
    let s = 0;
    for (let i = 0; i < f.length && s < best; i++) {
      const d = f[i]! - g[i]!;
      s += d * d;
    }
    if (s < best) best = s;
  }
  return Math.sqrt(best);
}

export class ExtractionMonitor {
  private readonly clients = new Map<string, ClientState>();
  /** This query's features; a copy is kept only when the query joins its class's set. */
  private scratch = new Float32Array(0);
  private readonly room = (n: number): Float32Array => {
    if (this.scratch.length < n) this.scratch = new Float32Array(n);
    return this.scratch.subarray(0, n).fill(0);
  };
  private readonly o: Required<Omit<MonitorOptions, 'volumeAlert'>> & { volumeAlert?: number };

  constructor(options: MonitorOptions = {}, private readonly now: () => number = Date.now) {
    this.o = { ...MONITOR_DEFAULTS, ...options };
    if (!(this.o.threshold > 0 && this.o.threshold < 1)) throw new RangeError(`monitor threshold must be in (0, 1), got ${this.o.threshold}`);
    if (!Number.isSafeInteger(this.o.minQueries) || this.o.minQueries < 3) throw new RangeError('minQueries must be an integer >= 3');
  }

  private state(client: string): ClientState {
    let s = this.clients.get(client);
    if (!s) {
      s = { queries: 0, groups: new Map(), distances: [], sinceTest: 0, suspected: false, rate: { second: new Float64Array(60).fill(-1), count: new Uint32Array(60) } };
      this.clients.set(client, s);
    }
    return s;
  }

  /** Records one query and its predicted class; returns a suspicion the first time one is raised. */
  observe(client: string, x: Float32Array, dims: readonly number[], predicted: number): Suspicion | undefined {
    return this.observeFeatures(client, monitorFeaturesInto(x, dims, this.room), predicted);
  }

  /** observe() for a query already reduced by monitorFeatures (`f` is copied when kept). */
  observeFeatures(client: string, f: Float32Array, predicted: number): Suspicion | undefined {
    const s = this.state(client);
    s.queries++;
    countRate(s.rate, this.now(), 1);
    let g = s.groups.get(predicted);
    if (!g) {
      g = { feats: [], sum: 0, sumSq: 0, n: 0 };
      s.groups.set(predicted, g);
    }
    if (g.feats.length === 0) g.feats.push(f.slice());
    else {
      const d = minDistance(f, g.feats);
      // An exact repeat (distance 0) tells the client nothing it had not been told: it is not a
      // sample of the query distribution PRADA tests. Counted, never tested: an honest client that
      // re-sends its inputs was flagged by the zeros (2,000 digits sent twice: alert at 2,266).
      if (d === 0) return this.maybeVolume(client, s);
      s.distances.push(d);
      // Keep the last SHAPIRO_MAX_N, trimmed in chunks (shift() on every query was O(n)).
      if (s.distances.length >= 2 * SHAPIRO_MAX_N) s.distances.splice(0, s.distances.length - SHAPIRO_MAX_N);
      g.sum += d;
      g.sumSq += d * d;
      g.n++;
      const mean = g.sum / g.n;
      const std = Math.sqrt(Math.max(0, g.sumSq / g.n - mean * mean));
      if (d > mean - std && g.feats.length < this.o.maxPerClass) g.feats.push(f.slice());
      s.sinceTest++;
    }
    const volume = this.maybeVolume(client, s);
    if (volume || s.suspected) return volume;
    const n = Math.min(s.distances.length, SHAPIRO_MAX_N);
    if (n >= this.o.minQueries && s.sinceTest >= Math.max(this.o.testEvery, Math.floor(n / 50))) {
      s.sinceTest = 0;
      const { w } = shapiroWilk(s.distances.length > SHAPIRO_MAX_N ? s.distances.slice(-SHAPIRO_MAX_N) : s.distances);
      s.lastW = w;
      if (w < this.o.threshold) return this.raise(client, s, 'shapiro-wilk', w);
    }
    return undefined;
  }

  private maybeVolume(client: string, s: ClientState): Suspicion | undefined {
    if (!s.suspected && this.o.volumeAlert !== undefined && s.queries >= this.o.volumeAlert) return this.raise(client, s, 'volume', s.lastW ?? 1);
    return undefined;
  }

  private raise(client: string, s: ClientState, reason: Suspicion['reason'], w: number): Suspicion {
    s.suspected = true;
    return { client, queries: s.queries, reason, n: Math.min(s.distances.length, SHAPIRO_MAX_N), w, threshold: this.o.threshold, ratePerMinute: countRate(s.rate, this.now(), 0) };
  }

  stats(client: string): ClientStats | undefined {
    const s = this.clients.get(client);
    if (!s) return undefined;
    return { queries: s.queries, ratePerMinute: countRate(s.rate, this.now(), 0), distances: Math.min(s.distances.length, SHAPIRO_MAX_N), suspected: s.suspected, ...(s.lastW === undefined ? {} : { lastW: s.lastW }) };
  }

  clientIds(): string[] {
    return [...this.clients.keys()];
  }
}
