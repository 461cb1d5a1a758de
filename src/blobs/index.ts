// The content-addressed, encrypted store of uploaded models, suspects, datasets and the files
// jobs produce: a folder (default) or PostgreSQL, shared by every replica (docs/postgres.md,
// "Stored files").
export { isBlobName, type BlobRef, type ChunkBackend } from './backend.js';
export { BlobError, type BlobErrorCode } from './errors.js';
export { CHUNK_SIZE, HEADER_BYTES } from './format.js';
export { deriveBlobKeys, storageKey, type BlobKeys, type KeyInfo, type KeySource } from './keys.js';
export { LocalBackend } from './local.js';
export { BLOB_KEY_FILE_ENV, BLOBS_ENV, blobConfigFor, blobsDir, openBlobStore, type BlobConfig, type BlobConfigOptions, type BlobStoreKind } from './open.js';
export { BLOB_SCHEMA_VERSION } from './pg-schema.js';
export { PgBackend, type PgBlobOptions } from './postgres.js';
export { SealedBlobStore, type BlobStore, type OpenedBlob } from './sealed-store.js';
export { xchachaOpen, xchachaSeal } from './xchacha.js';
