// guard.committed: the schema lives in src/records/types/guard-committed.ts (writer: service).
// These names stay for the guard's own code.
export { GUARD_COMMITTED as TYPE, GUARD_COMMITTED_SCHEMA as SCHEMA, guardCommitted, readGuardCommitted as decodeGuardCommitted, type GuardCommittedRecord as GuardCommitted } from '../records/index.js';
