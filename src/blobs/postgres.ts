// The blob store in PostgreSQL: chunked rows (blob_chunks, 1 MiB of plaintext each, sealed),
// one blob_objects row per blob written last in the same transaction, so every replica sees a
// blob whole or not at all. Chunked rows rather than large objects: they live in the schema (so
// `pg_dump --schema=hallmark` backs them up, large objects would need --large-objects and
// vacuumlo), they map one to one onto the sealed chunks, and a read of chunk i is one indexed
// row. Writers of the same content serialise on an advisory lock of its key; the second finds
// the blob there and stores nothing.
import pg from 'pg';
import type { BlobRef, ChunkBackend, ChunkWriter } from './backend.js';
import { BlobError } from './errors.js';
import { checkKeyInfo, type KeyInfo } from './keys.js';
import { migrateBlobs } from './pg-schema.js';

export interface PgBlobOptions {
  readonly url: string;
  /** PostgreSQL schema (namespace) of the tables; default "hallmark", beside the ledger's. */
  readonly schema?: string;
  /** Create or migrate the tables (a server at startup); else they must be there. */
  readonly create?: boolean;
  readonly maxConnections?: number;
}

export function pgBlobError(err: unknown): unknown {
  if (err instanceof BlobError || err instanceof TypeError || err instanceof RangeError) return err;
  const e = err as { message?: string };
  return new BlobError('BLOB_UNAVAILABLE', `the blob database is unavailable: ${e.message ?? String(err)}; nothing was stored`, { cause: err });
}

function lockId(key: Buffer): string {
  return BigInt(`0x${key.subarray(0, 7).toString('hex')}`).toString();
}

export class PgBackend implements ChunkBackend {
  readonly kind = 'postgres' as const;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PgBlobOptions): Promise<PgBackend> {
    const schema = options.schema ?? 'hallmark';
    const pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 4, options: `-c search_path=${schema}`, connectionTimeoutMillis: 10_000, idle_in_transaction_session_timeout: 120_000 } as pg.PoolConfig);
    pool.on('error', () => undefined);
    try {
      const c = await pool.connect();
      try {
        await migrateBlobs(c, schema, options.create === true);
      } finally {
        c.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw pgBlobError(err);
    }
    return new PgBackend(pool);
  }

  private async q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw pgBlobError(err);
    }
  }

  async keyInfo(fresh: () => Promise<KeyInfo>): Promise<KeyInfo> {
    let r = await this.q<{ info: unknown }>('SELECT info FROM blob_keys');
    if (r.rows.length === 0) {
      await this.q('INSERT INTO blob_keys (info) VALUES ($1) ON CONFLICT (one) DO NOTHING', [JSON.stringify(await fresh())]);
      r = await this.q<{ info: unknown }>('SELECT info FROM blob_keys');
    }
    return checkKeyInfo(r.rows[0]!.info);
  }

  async has(key: string): Promise<boolean> {
    return (await this.q('SELECT 1 FROM blob_objects WHERE key = $1', [Buffer.from(key, 'hex')])).rows.length > 0;
  }

  async begin(key: string, header: Uint8Array): Promise<ChunkWriter | undefined> {
    const k = Buffer.from(key, 'hex');
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw pgBlobError(err);
    }
    let done = false;
    const end = async (sql: 'COMMIT' | 'ROLLBACK', broken = false) => {
      if (done) return;
      done = true;
      try {
        await c.query(sql);
      } finally {
        c.release(broken);
      }
    };
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockId(k)]);
      if ((await c.query('SELECT 1 FROM blob_objects WHERE key = $1', [k])).rows.length > 0) {
        await end('ROLLBACK');
        return undefined;
      }
    } catch (err) {
      await end('ROLLBACK', true).catch(() => undefined);
      throw pgBlobError(err);
    }
    return {
      write: async (i, sealed) => {
        try {
          await c.query('INSERT INTO blob_chunks (key, idx, data) VALUES ($1, $2, $3)', [k, i, Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)]);
        } catch (err) {
          throw pgBlobError(err);
        }
      },
      commit: async () => {
        try {
          await c.query('INSERT INTO blob_objects (key, header) VALUES ($1, $2)', [k, Buffer.from(header)]);
          await end('COMMIT');
        } catch (err) {
          await end('ROLLBACK', true).catch(() => undefined);
          throw pgBlobError(err);
        }
      },
      abort: () => end('ROLLBACK').catch(() => undefined),
    };
  }

  async header(key: string): Promise<Uint8Array | undefined> {
    const r = await this.q<{ header: Buffer }>('SELECT header FROM blob_objects WHERE key = $1', [Buffer.from(key, 'hex')]);
    return r.rows[0] ? new Uint8Array(r.rows[0].header) : undefined;
  }

  async chunkCount(key: string): Promise<number> {
    const r = await this.q<{ n: string }>('SELECT count(*) AS n FROM blob_chunks WHERE key = $1', [Buffer.from(key, 'hex')]);
    return Number(r.rows[0]!.n);
  }

  async chunk(key: string, index: number): Promise<Uint8Array | undefined> {
    const r = await this.q<{ data: Buffer }>('SELECT data FROM blob_chunks WHERE key = $1 AND idx = $2', [Buffer.from(key, 'hex'), index]);
    return r.rows[0] ? new Uint8Array(r.rows[0].data) : undefined;
  }

  async remove(key: string): Promise<boolean> {
    const k = Buffer.from(key, 'hex');
    const c = await this.pool.connect().catch((err) => { throw pgBlobError(err); });
    try {
      await c.query('BEGIN');
      const r = await c.query('DELETE FROM blob_objects WHERE key = $1', [k]);
      await c.query('DELETE FROM blob_chunks WHERE key = $1', [k]);
      await c.query('COMMIT');
      return (r.rowCount ?? 0) > 0;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw pgBlobError(err);
    } finally {
      c.release();
    }
  }

  async setRef(name: string, ref: BlobRef): Promise<void> {
    await this.q('INSERT INTO blob_refs (name, sha256, size) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size', [name, ref.sha256, ref.size]);
  }

  async getRef(name: string): Promise<BlobRef | undefined> {
    const r = await this.q<{ sha256: string; size: string }>('SELECT sha256, size FROM blob_refs WHERE name = $1', [name]);
    return r.rows[0] ? { sha256: r.rows[0].sha256, size: Number(r.rows[0].size) } : undefined;
  }

  async listRefs(prefix: string): Promise<{ name: string; ref: BlobRef }[]> {
    // starts_with, not LIKE: a name may hold "_", which LIKE reads as a wildcard.
    const r = await this.q<{ name: string; sha256: string; size: string }>("SELECT name, sha256, size FROM blob_refs WHERE starts_with(name, $1 || '/') ORDER BY name COLLATE \"C\"", [prefix]);
    return r.rows.map((x) => ({ name: x.name, ref: { sha256: x.sha256, size: Number(x.size) } }));
  }

  async removeRef(name: string): Promise<boolean> {
    return ((await this.q('DELETE FROM blob_refs WHERE name = $1', [name])).rowCount ?? 0) > 0;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
