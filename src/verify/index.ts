// Verification of suspect models: is our mark in it, and how sure is that.
//   verifySuspect      the whole job: committed mark -> tests -> decision -> verification.recorded
//   verifyWeightMark   white-box: candidates by shape, bits, exact binomial p, Bonferroni      white-box.ts
//   verifyTriggerMark  black-box: trigger answers from any Classifier, binomial p vs chance     black-box.ts
//   open*Classifier    onnxruntime-node, TF.js, OIP v2 / TF Serving endpoints                  *-classifiers.ts
//   runCalibration     K unmarked models -> calibration.recorded (a function a job can run)    calibration.ts
//   decideOwnership    owned iff m * min p < alpha                                             decision.ts
export { VerifyError, type VerifyErrorCode } from './errors.js';
export { findWeightCandidates, verifyWeightMark, type WeightCandidateResult, type WeightMarkKey, type WhiteBoxResult } from './white-box.js';
export { assessTriggerPredictions, buildTriggerSet, nullChance, verifyTriggerMark, type BlackBoxResult, type NullCalibration, type TriggerMarkKey } from './black-box.js';
export { argmaxRows, inputLayout, type Classifier, type ImageShape } from './classifier.js';
export { openLocalClassifier, openOnnxClassifier, openTfjsClassifier } from './local-classifiers.js';
export { flattenNumbers, openRemoteClassifier, parseEndpoint, REMOTE_PROTOCOLS, type RemoteProtocol, type RemoteSuspect } from './remote-classifier.js';
export { mapWithConcurrency, redactUrl, REMOTE_DEFAULTS, RequestBudget, requestJson, type RemoteOptions } from './http-client.js';
export { CALIBRATION_RECORDED, CALIBRATION_RULE, CALIBRATION_SCHEMA, findCalibration, measureNull, modelTensors, recordCalibration, runCalibration, type CalibrationOptions } from './calibration.js';
export { checkAlpha, decideOwnership, type OwnershipDecision, type TestOutcome } from './decision.js';
export { findCommitted, findMarkedModel, latestLiveCommitment, liveCommitments, loadMark, markedModelOf, markKeysFromOpening, type LiveCommitments, type LoadedMark, type MarkKeys, type WeightMarkSpec } from './mark-secrets.js';
export { formatReport } from './report-text.js';
export { verifySuspect, type SuspectInput, type VerificationReport, type VerifyMethod, type VerifyOptions } from './verify-suspect.js';
