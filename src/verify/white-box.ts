// White-box verification of the Uchida weight mark: the suspect's weights are at hand, but its
// tensors may have been renamed, its output channels permuted, or its layers stored in another
// layout by a converter (TF.js conv HWIO -> ONNX Conv OIHW; dense IO -> Gemm OI). So we do not
// look the kernel up by name: every tensor whose shape, read in a layout that fits its rank, has
// exactly M = projection columns input features is a candidate, and we extract the bits from each.
// The output-channel mean is invariant to permuting output channels (kernel-layout.ts), and each
// layout maps to the same canonical feature order, so the marked kernel reads the same bits in
// whichever file it ends up.
//
// Statistics: for one candidate not carrying the mark, the rows of X are i.i.d. Gaussian and
// independent of both w and the bit string, so each extracted bit matches with probability 1/2
// independently: matches ~ Binomial(T, 1/2), p = P[X >= matches] exactly (core/stats.ts).
// Trying k candidates and keeping the best is multiple testing; the reported p-value for the
// decision is Bonferroni's k * p_min (capped at 1), which bounds the family-wise error at alpha.
import { assessMatches, compareBits, extractBits, generateProjection, kernelGeometry, layoutsForRank, meanOverOutputChannels, type KernelLayout, type ProjectionMatrix } from '../core/index.js';
import { tensorToFloat32, type DType, type NamedTensor } from '../formats/index.js';
import { VerifyError } from './errors.js';

export interface WeightMarkKey {
  /** The T bits the mark must carry. */
  readonly bits: Uint8Array;
  /** Seed of the T x M projection (derive.ts 'projection'). */
  readonly projectionSeed: Uint8Array;
  /** M: the input features of the marked kernel (kh * kw * cin, or in). */
  readonly features: number;
}

export interface WeightCandidateResult {
  readonly tensor: string;
  readonly layout: KernelLayout;
  readonly shape: readonly number[];
  readonly matches: number;
  readonly ber: number;
  /** P[X >= matches], X ~ Binomial(T, 1/2), for this candidate alone. */
  readonly pValue: number;
  readonly log10PValue: number;
}

export interface WhiteBoxResult {
  readonly bits: number;
  /** Every (tensor, layout) pair tried: the Bonferroni factor. */
  readonly candidates: number;
  /** The candidate with the most matching bits (ties: the first in file order). */
  readonly best: WeightCandidateResult;
  /** min(1, candidates * best.pValue): the p-value the decision uses. */
  readonly correctedPValue: number;
  readonly log10CorrectedPValue: number;
  /** All candidates, best first. */
  readonly all: readonly WeightCandidateResult[];
}

/** Dtypes whose values keep the sign of X w: floats, and int8 (per-tensor scale > 0 with no zero point). */
const READABLE: readonly DType[] = ['F64', 'F32', 'F16', 'BF16', 'I8'];

export interface Candidate {
  readonly tensor: NamedTensor;
  readonly layout: KernelLayout;
}

/** The (tensor, layout) pairs whose shape has exactly `features` input features. */
export function findWeightCandidates(tensors: readonly NamedTensor[], features: number): Candidate[] {
  if (!Number.isSafeInteger(features) || features < 1) throw new RangeError(`features must be a positive integer, got ${features}`);
  const out: Candidate[] = [];
  for (const t of tensors) {
    if (!READABLE.includes(t.dtype)) continue;
    for (const layout of layoutsForRank(t.shape.length)) {
      let g;
      try {
        g = kernelGeometry(t.shape, layout);
      } catch {
        continue; // a zero dimension or an oversized tensor cannot hold the mark
      }
      if (g.features === features && g.outputs >= 1) out.push({ tensor: t, layout });
    }
  }
  return out;
}

function readCandidate(c: Candidate, x: ProjectionMatrix, bits: Uint8Array, cache: Map<NamedTensor, Float32Array>): WeightCandidateResult {
  let data = cache.get(c.tensor);
  if (!data) {
    data = tensorToFloat32(c.tensor);
    cache.set(c.tensor, data);
  }
  const w = meanOverOutputChannels(data, c.tensor.shape, c.layout);
  const cmp = compareBits(bits, extractBits(x, w));
  const a = assessMatches({ matches: cmp.matches, trials: cmp.total, chance: 0.5 });
  return { tensor: c.tensor.name, layout: c.layout, shape: [...c.tensor.shape], matches: cmp.matches, ber: cmp.ber, pValue: a.pValue, log10PValue: a.log10PValue };
}

/** Extracts the weight mark from every candidate tensor and returns the best, Bonferroni-corrected. */
export function verifyWeightMark(tensors: readonly NamedTensor[], key: WeightMarkKey): WhiteBoxResult {
  const { bits } = key;
  if (!(bits instanceof Uint8Array) || bits.length === 0) throw new TypeError('bits must be a non-empty Uint8Array');
  const candidates = findWeightCandidates(tensors, key.features);
  if (candidates.length === 0) {
    throw new VerifyError('VERIFY_NO_CANDIDATE', `the suspect has no 2-D, 3-D or 4-D float tensor with ${key.features} input features, so it cannot carry this weight mark (try black-box verification)`);
  }
  const x = generateProjection(key.projectionSeed, bits.length, key.features);
  const cache = new Map<NamedTensor, Float32Array>();
  const all = candidates.map((c) => readCandidate(c, x, bits, cache));
  const order = all.map((r, i) => ({ r, i })).sort((a, b) => b.r.matches - a.r.matches || a.i - b.i).map((e) => e.r);
  const best = order[0]!;
  const k = candidates.length;
  const log10CorrectedPValue = Math.min(0, best.log10PValue + Math.log10(k));
  return {
    bits: bits.length,
    candidates: k,
    best,
    correctedPValue: Math.min(1, best.pValue * k),
    log10CorrectedPValue,
    all: order,
  };
}
