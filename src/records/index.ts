// Every ledger entry type Hallmark writes: schema, strict decoder, who may write it, signature.
//   registry.ts      the list of types; isProtectedType for the generic append
//   append.ts        appendRecord / appendRecords: decode strictly, sign, append
//   read.ts          readRecords / readRecordAt / verifyRecordEntry: schema + signature + actor
//   types/*.ts       one file per type (api-entries.ts holds the six api.* types)
export { RecordError, type RecordErrorCode } from './errors.js';
export { isObj, isProtected, isSigned, type RecordType, type RecordWriter } from './record-type.js';
export { isProtectedType, protectedTypes, recordTypeOf, RECORD_TYPES } from './registry.js';
export { appendRecord, appendRecords, recordEntry, type RecordInput } from './append.js';
export { formatProblem, readRecordAt, readRecords, verifyRecordEntry, type ReadResult, type RecordProblem, type Verified } from './read.js';
export { checkRecordSignature, signRecord, splitSignature, SIGNATURE_FIELD, type RecordSignature, type RecordSigner } from './signature.js';
export { entitled, type TrustedKeys } from './trust.js';
export { dsseKeyId, parseSignerKey, parseVerifierKey, type OwnerSigningKey, type OwnerVerifyingKey } from './keys.js';
export { ed25519PublicKey, ed25519Sign, ed25519Verify } from './ed25519.js';
export { readCommittedRecord, watermarkCommitted, COMMITTED_SCHEMA, WATERMARK_COMMITTED, type CommittedRecord, type WatermarkScheme } from './types/watermark-committed.js';
export {
  readVerificationRecord, verificationRecorded, VERIFICATION_RECORDED, VERIFICATION_SCHEMA,
  anyVerificationRecorded, guardVerificationRecorded, isGuardVerification, readAnyVerificationRecord,
  type GuardClientResult, type GuardResult, type GuardVerificationRecord,
  type VerificationRecord, type FileSuspect, type EndpointSuspect, type WeightResult, type TriggerResult,
  type FingerprintResult,
} from './types/verification-recorded.js';
export { calibrationRecorded, readCalibrationRecord, CALIBRATION_RECORDED, CALIBRATION_RULE, CALIBRATION_SCHEMA, type CalibrationRecord } from './types/calibration-recorded.js';
export { evidenceExported, readEvidenceExported, EVIDENCE_EXPORTED, EVIDENCE_EXPORTED_SCHEMA, type EvidenceExportedRecord } from './types/evidence-exported.js';
export {
  fingerprintCommitted, readFingerprintCommitted, readFingerprintParameters, FINGERPRINT_COMMITTED, FINGERPRINT_COMMITTED_SCHEMA,
  type FingerprintCommitted, type FingerprintParameters,
} from './types/fingerprint-committed.js';
export { modelRegistered, MODEL_REGISTERED } from './types/model-registered.js';
export { modelSigned, readModelSigned, MODEL_SIGNED, MODEL_SIGNED_SCHEMA, type ModelSignedRecord } from './types/model-signed.js';
export { datasetRegistered, DATASET_REGISTERED } from './types/dataset-registered.js';
export { lineageDerived, LINEAGE_DERIVED } from './types/lineage-derived.js';
export { apiEvidenceExported, apiJobSubmitted, apiKeyCreated, apiKeyRevoked, apiProvenanceCreated, apiSuspectUploaded, API_TYPES } from './types/api-entries.js';
export { guardCommitted, readGuardCommitted, GUARD_COMMITTED, GUARD_COMMITTED_SCHEMA, type GuardCommittedRecord } from './types/guard-committed.js';
export { extractionSuspected, readExtractionSuspected, EXTRACTION_SUSPECTED, EXTRACTION_SUSPECTED_SCHEMA, SUSPECT_ACTIONS, type ExtractionSuspectedRecord, type SuspectAction } from './types/extraction-suspected.js';
export { guardCalibrated, readGuardCalibrated, GUARD_CALIBRATED, GUARD_CALIBRATED_SCHEMA, GUARD_CALIBRATION_RULE, type GuardCalibratedRecord } from './types/guard-calibrated.js';
export { accessRecorded, readAccessRecord, ACCESS_RECORDED, ACCESS_RECORDED_SCHEMA, type AccessKind, type AccessRecord } from './types/access-recorded.js';
