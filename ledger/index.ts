export { HallmarkError, LedgerError, isHallmarkError, type LedgerErrorCode } from './errors.js';
export { hashLeaf, hashChildren, EMPTY_ROOT, equalBytes, toBase64, fromBase64, toHex, sha256Latin1 } from './hash.js';
export { rootFromInclusionProof, verifyInclusion, verifyConsistency } from './verify.js';
export { inclusionNodes, consistencyNodes, rehash, rootNodes, type NodeId, type ProofNodes } from './nodes.js';
export { canonicalJson, canonicalJsonBytes, type JsonValue } from './canonical-json.js';
export { decodeEntry, encodeEntry, ENTRY_VERSION, type Entry, type EntryInput, type JsonObject } from './entry.js';
export {
  computeKeyId, encodeVerifierKey, generateNoteKey, newSigner, newVerifier, openNote, signNote, verifierKeyFor,
  type Note, type NoteSigner, type NoteVerifier, type NoteSignature,
} from './note.js';
export { formatCheckpoint, parseCheckpoint, signCheckpoint, openCheckpoint, CheckpointOpener, type Checkpoint, type SignedCheckpoint } from './checkpoint.js';
export { openLedger, rootFromBorder, type OpenLedgerOptions } from './sqlite-ledger.js';
export type { Ledger, StoredEntry, InclusionProof, ConsistencyProof, ListOptions, Clock } from './ledger.js';
export type { AuditReport, AuditProblem, AuditOptions, AuditProgress } from './audit.js';
export { proofToJson, proofFromJson, consistencyToJson, consistencyFromJson, type InclusionProofJson, type ConsistencyProofJson } from './proof-json.js';
export { parseStrictJson, StrictJsonError, type StrictJsonErrorCode, type StrictJsonOptions } from './strict-json.js';
export { encodeTileIndex, parseTilePath, tilePath, tileInTree, tilesOfTree, readTile, readHashTile, readEntryBundle, TILE_WIDTH, type TileId } from './tiles.js';
export { exportTiles, type ExportReport } from './tiles-export.js';
export { openPostgresLedger, type OpenPostgresLedgerOptions } from './pg-ledger.js';
