// What a thief does to a stolen model, to measure which marks survive (bench/robustness.ts).
export { AttackError, type AttackErrorCode } from './errors.js';
export { ATTACK_KINDS, measureAccuracy, runAttack, type AttackKind, type AttackOptions, type AttackResult } from './run-attack.js';
export { distill, fineTuneAllLayers, reinitLastLayerAndRetrain, startsFromTeacher, studentSeed, type DistillBudget, type TrainBudget } from './train-attacks.js';
export { addGaussianNoise, countDistinct, pruneByMagnitude, quantizeUniform } from './weight-attacks.js';
export { extractModel, naturalQueries, type ExtractOptions, type ExtractResult } from './extract.js';
