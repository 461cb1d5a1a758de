// Hallmark's pure core: the watermark math both embedding and verification use. No files, no
// network, no clock, no ambient randomness: inputs are bytes, Float32Arrays and numbers, and the
// same inputs give the same outputs on every machine.
//
// The path of a mark, and where each step lives:
//   1. deriveWatermarkRoot(ownerSeed, modelId)      the secret per (owner, model)      derive.ts
//      deriveWatermarkKeys(root, T)                 seeds + public-key-bound bits      derive.ts
//   2. commitWatermark({ scheme, parameters, root, salt }) -> ledger                   commitment.ts
//   3. weight mark: generateProjection(seed, T, M); w = meanOverOutputChannels(...)   uchida.ts, kernel-layout.ts
//        fine-tuning uses watermarkLoss (value + gradient); models that cannot be
//        fine-tuned use embedWeightMarkTrainingFree                                   embed-weight.ts
//      trigger mark: generateTriggerSet({ seed, labelSeed, ... })                     triggers.ts
//   4. verification: extractBits + compareBits, countTriggerMatches, then
//      assessMatches({ matches, trials, chance }) with chanceRate(...)                stats.ts
//   5. a dispute: openCommitment(commitment, opening) and verifyWatermarkRoot(root)
//      show the revealed secret is the committed one and the owner's.
export { CoreError, type CoreErrorCode } from './errors.js';
export { canonicalJson, canonicalJsonBytes, type JsonValue } from './canonical.js';
export { createPrng, type Prng } from './prng.js';
export {
  deriveMarkBits, deriveOwnerPublicKey, deriveSeed, deriveWatermarkKeys, deriveWatermarkRoot, verifyWatermarkRoot,
  watermarkRootMessage, MAX_BIT_COUNT, SEED_PURPOSES, type SeedPurpose, type WatermarkKeys, type WatermarkRoot,
} from './derive.js';
export {
  addOverOutputChannels, convertKernelLayout, expandOverOutputChannels, kernelGeometry, meanOverOutputChannels,
  KERNEL_LAYOUTS, layoutsForRank, type KernelGeometry, type KernelLayout,
} from './kernel-layout.js';
export {
  bitMargins, compareBits, extractBits, generateProjection, project, watermarkLoss, MAX_PROJECTION_ELEMENTS,
  type BitComparison, type ProjectionMatrix, type WatermarkLoss,
} from './uchida.js';
export { embedWeightMarkTrainingFree, suggestMargin, type TrainingFreeInput, type TrainingFreeResult } from './embed-weight.js';
export {
  countTriggerMatches, generateTriggerImages, generateTriggerLabels, generateTriggerSet, isIdentityTriggerInput, mapTriggerInput, type TriggerImageOptions, type TriggerInputMap, type TriggerSet,
} from './triggers.js';
export {
  assessMatches, binomialUpperTail, chanceRate, decide, logBinomialPmf, logBinomialUpperTail, logGamma, DEFAULT_ALPHA,
  type Decision, type MatchAssessment,
} from './stats.js';
export {
  decodeWatermarkRoot, encodeWatermarkRoot, secretDigest, watermarkRootFromBytes, watermarkRootToBytes, type WatermarkRootJson,
} from './secret-material.js';
export {
  commitmentPreimage, commitWatermark, decodeCommitment, decodeOpening, encodeOpening, openCommitment, SALT_BYTES,
  type CommitmentOpening, type WatermarkCommitment,
} from './commitment.js';
export { bitsForTarget, marginForTarget, inverseChannelMetric, channelWeightsByScale, DEFAULT_DETECTION_TARGET, type DetectionTarget } from './mark-plan.js';
export { normalQuantile, normalUpperTail } from './normal.js';
export { shapiroWilk, shapiroWilkCoefficients, shapiroWilkPValue, SHAPIRO_MAX_N, SHAPIRO_MIN_N, type ShapiroWilkResult } from './shapiro-wilk.js';
