// Moved to src/records/types/verification-recorded.ts; kept so existing imports still resolve.
export {
  readVerificationRecord, VERIFICATION_RECORDED, VERIFICATION_SCHEMA,
  type VerificationRecord, type FileSuspect, type EndpointSuspect, type WeightResult, type TriggerResult,
} from '../records/index.js';
