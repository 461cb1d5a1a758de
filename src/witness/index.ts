export { WitnessError, type WitnessErrorCode } from './errors.js';
export {
  cosignatureKeyId, cosignedMessage, encodeCosignatureVkey, generateCosignerKey, newCosigner, parseCosignatureLine, parseCosignatureVkey,
  verifyCosignature, splitNote, ALG_COSIGNATURE_V1, type Cosigner, type Cosignature, type CosignatureVerifier,
} from './cosignature.js';
export { parsePolicy, quorumMet, type Policy, type PolicyWitness } from './policy.js';
export { WitnessState, type LogState } from './state.js';
export { addCheckpoint, latestCosigned, MAX_REQUEST_BYTES, type WitnessOptions, type WitnessResponse } from './witness.js';
export { witnessApp } from './server.js';
export { publishCheckpoint, readPublished, publishedPath, quorumError, homeWitnessing, type PublishResult, type SubmitOutcome } from './submit.js';
export { verifyCheckpointPolicy, type PolicyCheck } from './verify-policy.js';
export { formatTlogProof, parseTlogProof, proveIndex, verifyTlogProof, TLOG_PROOF_HEADER, type TlogProof, type VerifiedTlogProof } from './tlog-proof.js';
