// Canonical JSON (RFC 8785) is the ledger's; the core hashes the same bytes, so it re-exports
// rather than keeping a second implementation that could drift.
export { canonicalJson, canonicalJsonBytes, type JsonValue } from '../../ledger/index.js';
