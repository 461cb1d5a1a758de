export { EvidenceError, type EvidenceErrorCode } from './errors.js';
export { pae, readEnvelope, signEnvelope, verifyEnvelope, IN_TOTO_PAYLOAD_TYPE, type DsseEnvelope, type DsseSignature } from './dsse.js';
export { dsseKeyId, parseSignerKey, parseVerifierKey, type OwnerSigningKey, type OwnerVerifyingKey } from './owner-key.js';
export { buildProvenanceBundle, PROVENANCE_FORMAT, type ProvenanceBundle, type BuildProvenanceInput } from './provenance-bundle.js';
export { verifyProvenanceBundle, formatProvenance, type ProvenanceResult, type VerifyProvenanceOptions } from './provenance-verify.js';
export { formatBundleJson } from './strict-json.js';
export { readCommittedRecord, COMMITTED_SCHEMA, WATERMARK_COMMITTED, type CommittedRecord, type WatermarkScheme } from '../records/index.js';
export {
  readVerificationRecord, VERIFICATION_RECORDED, VERIFICATION_SCHEMA,
  type VerificationRecord, type FileSuspect, type EndpointSuspect, type WeightResult, type TriggerResult,
} from '../records/index.js';
export { exportEvidence, EVIDENCE_FORMAT, EVIDENCE_PREDICATE, type ExportEvidenceInput } from './evidence-export.js';
export { verifyEvidence, verifyAnyEvidence, formatEvidenceResult, type EvidenceResult, type VerifyEvidenceOptions } from './evidence-verify.js';
export { claimedClients, isGuardVerificationAt, revealGuardSets } from './guard-section.js'; // issue 12: guard-mark bundles
export { formatGuardEvidenceResult, type GuardEvidenceResult, type GuardClientEvidence } from './guard-check.js';
export { readRevealedOpening } from './secret-material.js';
export { formatReExtraction, P_VALUE_TOLERANCE, type ComparedNumber, type ReExtraction } from './re-extract-format.js';
export { renderReportPdf, type ReportInput } from './report-pdf.js';
export { binomialPmf, binomialTail } from './statistics.js';
export { triggerPlot, weightPlot, type PlotData } from './report-plots.js'; // the report's plot data, also drawn by the console
export { loadStoredOpening } from './stored-opening.js';
export { formatDispute, settleDispute, type Claim, type DisputeOptions, type DisputeResult, type MarkTest, type TimeAnchor } from './dispute.js';
export { fingerprintVerdict, partyFirstAppearance, weighFingerprint, type FingerprintDate, type FingerprintWeight } from './dispute-fingerprints.js';
