// Typed failures of the blob store. A blob that does not authenticate is never returned, not
// even in part before the failure is known where that can be checked up front (header, chunk
// count, file length); a streamed download stops at the first chunk that fails.
import { HallmarkError } from '../../ledger/index.js';

export type BlobErrorCode =
  /** No blob (or no name) under this address. */
  | 'BLOB_NOT_FOUND'
  /** A chunk or header failed authentication: flipped bytes, reordered or foreign chunks. */
  | 'BLOB_TAMPERED'
  /** Fewer chunks (or bytes) than the authenticated header says. */
  | 'BLOB_TRUNCATED'
  /** The store's key check does not match: a wrong passphrase or key file. */
  | 'BLOB_BAD_KEY'
  /** No passphrase and no key file: the store cannot encrypt or decrypt. */
  | 'BLOB_NO_KEY'
  /** The bytes given did not hash to the digest the caller announced. */
  | 'BLOB_MISMATCH'
  /** A blob name that is not a plain relative name. */
  | 'BLOB_BAD_NAME'
  /** The blob tables are newer than this code, or missing. */
  | 'BLOB_UNSUPPORTED_VERSION'
  /** The database could not be reached or went away; nothing was stored. */
  | 'BLOB_UNAVAILABLE';

export class BlobError extends HallmarkError<BlobErrorCode> {}
