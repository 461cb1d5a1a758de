// Moved to src/records/types/watermark-committed.ts; kept so existing imports still resolve.
export { readCommittedRecord, COMMITTED_SCHEMA, WATERMARK_COMMITTED, type CommittedRecord, type WatermarkScheme } from '../records/index.js';
