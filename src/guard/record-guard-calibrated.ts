// guard.calibrated: the schema lives in src/records/types/guard-calibrated.ts (writer: service).
export {
  GUARD_CALIBRATED as TYPE, GUARD_CALIBRATED_SCHEMA as SCHEMA, GUARD_CALIBRATION_RULE as RULE, guardCalibrated,
  readGuardCalibrated as decodeGuardCalibrated, type GuardCalibratedRecord as GuardCalibrated,
} from '../records/index.js';
