// Black-box verification of the trigger-set mark: ask the suspect for the class of each of the
// N key-derived trigger images and count how many answers equal the key-derived labels.
//
// Null hypothesis: the suspect was not trained on our triggers. The labels are drawn uniformly
// and independently of the images (core/triggers.ts), so such a model agrees with each label
// with probability 1/C whatever it answers, and matches ~ Binomial(N, 1/C). To stay honest if
// something we did not foresee makes unmarked models agree more often, a calibration (K
// independently trained unmarked models, calibration.ts) can raise the per-trigger chance:
//   chance = max(1/C, the highest agreement rate observed among the K models)
// The maximum, not a mean or a quantile: with K around 5-20 it is the most conservative
// estimate the data allow, and a p-value computed with a larger chance is larger (safer).
import { assessMatches, chanceRate, countTriggerMatches, generateTriggerSet, mapTriggerInput, type TriggerInputMap, type TriggerSet } from '../core/index.js';
import type { Classifier } from './classifier.js';

export interface TriggerMarkKey {
  readonly imageSeed: Uint8Array;
  readonly labelSeed: Uint8Array;
  readonly n: number;
  readonly classes: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** How the [0, 1] trigger pixels become the model's input (committed; none: fed as they are). */
  readonly input?: TriggerInputMap;
}

/** What verification needs of a calibration.recorded entry. */
export interface NullCalibration {
  /** Ledger index of the calibration entry, when it came from the ledger. */
  readonly index?: number;
  /** Trigger agreement rate of each unmarked model. */
  readonly rates: readonly number[];
}

export interface BlackBoxResult {
  readonly n: number;
  readonly matches: number;
  readonly classes: number;
  /** Fraction of triggers answered with their label. */
  readonly triggerAccuracy: number;
  readonly chanceRate: number;
  readonly nullSource: 'calibrated' | 'uniform';
  readonly nullDistribution?: readonly number[];
  readonly calibrationIndex?: number;
  /** Matches expected by chance: n * chanceRate. */
  readonly expected: number;
  /** P[X >= matches], X ~ Binomial(n, chanceRate). */
  readonly pValue: number;
  readonly log10PValue: number;
  /** What answered. */
  readonly source: string;
}

export function buildTriggerSet(key: TriggerMarkKey): TriggerSet {
  const set = generateTriggerSet({ seed: key.imageSeed, labelSeed: key.labelSeed, n: key.n, classes: key.classes, height: key.height, width: key.width, channels: key.channels });
  return key.input ? { ...set, images: mapTriggerInput(set.images, key.channels, key.input) } : set;
}

/** The per-trigger chance used for the p-value, and where it came from (rule above). */
export function nullChance(classes: number, calibration?: NullCalibration): { chance: number; source: 'calibrated' | 'uniform' } {
  if (!calibration || calibration.rates.length === 0) return { chance: chanceRate({ classes }), source: 'uniform' };
  return { chance: chanceRate({ classes, calibratedNullRate: Math.max(...calibration.rates) }), source: 'calibrated' };
}

/** Binomial test of trigger predictions against the labels. */
export function assessTriggerPredictions(set: TriggerSet, predictions: Int32Array, source: string, calibration?: NullCalibration): BlackBoxResult {
  const matches = countTriggerMatches(set.labels, predictions);
  const { chance, source: nullSource } = nullChance(set.classes, calibration);
  const a = assessMatches({ matches, trials: set.n, chance });
  return {
    n: set.n,
    matches,
    classes: set.classes,
    triggerAccuracy: matches / set.n,
    chanceRate: chance,
    nullSource,
    ...(nullSource === 'calibrated' ? { nullDistribution: [...calibration!.rates] } : {}),
    ...(calibration?.index === undefined ? {} : { calibrationIndex: calibration.index }),
    expected: a.expected,
    pValue: a.pValue,
    log10PValue: a.log10PValue,
    source,
  };
}

/** Queries the suspect with the trigger set and tests the answers. */
export async function verifyTriggerMark(classifier: Classifier, key: TriggerMarkKey, calibration?: NullCalibration): Promise<BlackBoxResult> {
  const set = buildTriggerSet(key);
  const predictions = await classifier.classify(set.images, set.n, [set.height, set.width, set.channels]);
  return assessTriggerPredictions(set, predictions, classifier.description, calibration);
}
