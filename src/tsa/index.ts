export { TsaError, type TsaErrorCode } from './errors.js';
export { readCertificates } from './asn1.js';
export { buildTimestampRequest, makeNonce, type TimestampRequest } from './request.js';
export { parseToken, verifyTimestampToken, type TimestampInfo, type VerifyTokenOptions } from './verify-token.js';
export { requestTimestamp, type TimestampResult } from './client.js';
export { listTimestamps, saveTimestamp, timestampsDir, type StoredTimestamp } from './store.js';
export { stampCheckpoint, type StampResult } from './stamp.js';
