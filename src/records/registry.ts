// Every entry type Hallmark writes, one line each. Adding a type: write types/<type>.ts exporting
// a RecordType (name, schema, writer, strict decode), then add it to RECORD_TYPES below.
import type { RecordType } from './record-type.js';
import { isProtected } from './record-type.js';
import { API_TYPES } from './types/api-entries.js';
import { calibrationRecorded } from './types/calibration-recorded.js';
import { datasetRegistered } from './types/dataset-registered.js';
import { evidenceExported } from './types/evidence-exported.js';
import { fingerprintCommitted } from './types/fingerprint-committed.js';
import { lineageDerived } from './types/lineage-derived.js';
import { modelRegistered } from './types/model-registered.js';
import { modelSigned } from './types/model-signed.js';
import { anyVerificationRecorded } from './types/verification-recorded.js';
import { watermarkCommitted } from './types/watermark-committed.js';
// The guard's records (issue 12) and the API's download log.
import { accessRecorded } from './types/access-recorded.js';
import { extractionSuspected } from './types/extraction-suspected.js';
import { guardCalibrated } from './types/guard-calibrated.js';
import { guardCommitted } from './types/guard-committed.js';

export const RECORD_TYPES: readonly RecordType<unknown>[] = [
  watermarkCommitted,
  anyVerificationRecorded,
  calibrationRecorded,
  evidenceExported,
  modelRegistered,
  datasetRegistered,
  lineageDerived,
  modelSigned, // issue 15: owner-signed OpenSSF model signature log entries
  fingerprintCommitted,
  ...API_TYPES,
  guardCommitted,
  extractionSuspected,
  guardCalibrated,
  accessRecorded,
];

/** Namespaces reserved whole: a type in them that is not (yet) registered is still refused. */
// guard., extraction., fingerprint., access. and model.signed are written only by their own code
// (src/guard, src/fingerprint, src/api, src/signing); the generic append refuses them too.
const PROTECTED_NAMESPACES = ['api.', 'watermark.', 'verification.', 'calibration.', 'evidence.', 'guard.', 'extraction.', 'fingerprint.', 'access.', 'model.signed'];

const BY_TYPE = new Map(RECORD_TYPES.map((t) => [t.type, t]));

export function recordTypeOf(type: string): RecordType<unknown> | undefined {
  return BY_TYPE.get(type);
}

/** True for every type the generic append must refuse. */
export function isProtectedType(type: string): boolean {
  const t = BY_TYPE.get(type);
  if (t) return isProtected(t);
  return PROTECTED_NAMESPACES.some((ns) => type.startsWith(ns));
}

export function protectedTypes(): string[] {
  return RECORD_TYPES.filter(isProtected).map((t) => t.type);
}
