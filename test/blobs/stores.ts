// The blob stores the contract suite runs against: a folder and a PostgreSQL schema (a fresh one
// per store, on the cluster the vitest global setup started). Each gives the raw sealed chunks
// and a way to change them, for the attack tests, and every byte it holds at rest, for the
// "no plaintext on disk" checks.
import { mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { HEADER_BYTES, openBlobStore, storageKey, type BlobStore, type KeySource, type SealedBlobStore } from '../../src/blobs/index.js';

/** Raw access to one stored blob's sealed chunks. */
export interface RawBlob {
  chunk(i: number): Promise<Buffer>;
  setChunk(i: number, data: Buffer): Promise<void>;
  dropLast(): Promise<void>;
  header(): Promise<Buffer>;
  setHeader(h: Buffer): Promise<void>;
}

export interface BlobStoreUnderTest {
  readonly name: 'local' | 'postgres';
  /** A new, empty place (folder or schema). */
  fresh(): string;
  open(loc: string, key: KeySource, chunkSize?: number): Promise<BlobStore>;
  raw(loc: string, store: BlobStore, sha256: string, chunkSize: number): Promise<RawBlob>;
  /** Every byte at rest, in one buffer (the folder's files, or the tables' rows). */
  allBytes(loc: string): Promise<Buffer>;
}

export function pgUrl(): string {
  const u = inject('postgresUrl');
  if (!u) throw new Error('no PostgreSQL for this run: the global setup starts one for contract-*, replicas* and *postgres* test files (or set HALLMARK_TEST_DATABASE_URL)');
  return u;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

async function keyOf(store: BlobStore, sha256: string): Promise<string> {
  return storageKey(await (store as SealedBlobStore).keys(), sha256);
}

export const localBlobs: BlobStoreUnderTest = {
  name: 'local',
  fresh: () => join(mkdtempSync(join(tmpdir(), 'hm-blobs-')), 'blobs'),
  open: (loc, key, chunkSize) => openBlobStore({ kind: 'local', dir: loc, key }, chunkSize ? { chunkSize } : {}),
  async raw(loc, store, sha256, chunkSize) {
    const k = await keyOf(store, sha256);
    const path = join(loc, 'objects', k.slice(0, 2), k);
    const rec = 24 + chunkSize + 16;
    const at = (i: number) => HEADER_BYTES + i * rec;
    return {
      chunk: async (i) => readFileSync(path).subarray(at(i), at(i) + rec),
      setChunk: async (i, data) => {
        const b = readFileSync(path);
        data.copy(b, at(i));
        writeFileSync(path, b);
      },
      dropLast: async () => {
        const size = statSync(path).size;
        const lastLen = (size - HEADER_BYTES) % rec || rec;
        truncateSync(path, size - lastLen);
      },
      header: async () => readFileSync(path).subarray(0, HEADER_BYTES),
      setHeader: async (h) => {
        const b = readFileSync(path);
        h.copy(b, 0);
        writeFileSync(path, b);
      },
    };
  },
  allBytes: async (loc) => Buffer.concat(files(loc).map((f) => readFileSync(f))),
};

let schemas = 0;
async function client(schema?: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: pgUrl(), ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  await c.connect();
  return c;
}

export const postgresBlobs: BlobStoreUnderTest = {
  name: 'postgres',
  fresh: () => `b_${process.pid}_${Date.now().toString(36)}_${schemas++}`,
  open: (loc, key, chunkSize) => openBlobStore({ kind: 'postgres', dir: '/nonexistent', url: pgUrl(), schema: loc, key }, { create: true, ...(chunkSize ? { chunkSize } : {}) }),
  async raw(loc, store, sha256) {
    const k = Buffer.from(await keyOf(store, sha256), 'hex');
    const sql = async <T>(q: string, params: unknown[]) => {
      const c = await client(loc);
      try {
        return (await c.query(q, params)).rows as T[];
      } finally {
        await c.end();
      }
    };
    return {
      chunk: async (i) => (await sql<{ data: Buffer }>('SELECT data FROM blob_chunks WHERE key = $1 AND idx = $2', [k, i]))[0]!.data,
      setChunk: async (i, data) => void (await sql('UPDATE blob_chunks SET data = $3 WHERE key = $1 AND idx = $2', [k, i, data])),
      dropLast: async () => void (await sql('DELETE FROM blob_chunks WHERE key = $1 AND idx = (SELECT max(idx) FROM blob_chunks WHERE key = $1)', [k])),
      header: async () => (await sql<{ header: Buffer }>('SELECT header FROM blob_objects WHERE key = $1', [k]))[0]!.header,
      setHeader: async (h) => void (await sql('UPDATE blob_objects SET header = $2 WHERE key = $1', [k, h])),
    };
  },
  async allBytes(loc) {
    const c = await client(loc);
    try {
      const parts: Buffer[] = [];
      for (const t of ['blob_keys', 'blob_objects', 'blob_chunks', 'blob_refs']) {
        // Every column of every row, as PostgreSQL's own text and binary forms.
        const rows = (await c.query(`SELECT * FROM ${t}`)).rows as Record<string, unknown>[];
        for (const r of rows) for (const v of Object.values(r)) parts.push(Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v)));
      }
      return Buffer.concat(parts);
    } finally {
      await c.end();
    }
  },
};

export const BLOB_STORES: BlobStoreUnderTest[] = [localBlobs, postgresBlobs];
