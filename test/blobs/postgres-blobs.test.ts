// The PostgreSQL blob store's own failures: a blob schema newer than the code refuses to open
// with a clear message, a missing schema is not created unless asked, and a database that is
// gone gives BLOB_UNAVAILABLE (typed, one line), never a half-stored blob.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { BlobError, openBlobStore, PgBackend } from '../../src/blobs/index.js';
import { pgUrl } from './stores.js';

let n = 0;
const fresh = () => `bp_${process.pid}_${Date.now().toString(36)}_${n++}`;
const KEY = { passphrase: 'pg blob passphrase' };

async function sql(schema: string, q: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl(), options: `-c search_path=${schema}` });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

describe('blob store on PostgreSQL: versions and outages', () => {
  it('refuses a schema newer than the code, and a missing one unless asked to create it', async () => {
    const schema = fresh();
    await expect(PgBackend.open({ url: pgUrl(), schema })).rejects.toMatchObject({ code: 'BLOB_UNSUPPORTED_VERSION', message: expect.stringMatching(/no blob tables/) });
    (await PgBackend.open({ url: pgUrl(), schema, create: true })).close();
    await sql(schema, "INSERT INTO hallmark_migrations (component, version) VALUES ('blobs', 99)");
    await expect(PgBackend.open({ url: pgUrl(), schema, create: true })).rejects.toMatchObject({ code: 'BLOB_UNSUPPORTED_VERSION', message: expect.stringMatching(/version 99, newer than this hallmark understands \(1\)/) });
  });

  it('shares hallmark_migrations with the ledger without either seeing the other\'s versions', async () => {
    const schema = fresh();
    (await PgBackend.open({ url: pgUrl(), schema, create: true })).close();
    const c = new pg.Client({ connectionString: pgUrl(), options: `-c search_path=${schema}` });
    await c.connect();
    const rows = (await c.query('SELECT component, version FROM hallmark_migrations ORDER BY component')).rows;
    await c.end();
    expect(rows).toEqual([{ component: 'blobs', version: 1 }]);
  });

  it('a database that cannot be reached is BLOB_UNAVAILABLE, and a put refused at its last row leaves no chunk behind', async () => {
    const dead = new URL(pgUrl());
    dead.port = '1';
    const err = await openBlobStore({ kind: 'postgres', dir: '/x', url: dead.toString(), key: KEY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobError);
    expect((err as BlobError).code).toBe('BLOB_UNAVAILABLE');
    expect((err as BlobError).message.split('\n')).toHaveLength(1);
    expect((err as BlobError).message).not.toMatch(/password/i);

    const schema = fresh();
    const store = await openBlobStore({ kind: 'postgres', dir: '/x', url: pgUrl(), schema, key: KEY }, { create: true });
    const kept = await store.put(Buffer.from('kept'));
    // The database refuses the blob's row after its three chunks went in: the whole put rolls back.
    await sql(schema, 'ALTER TABLE blob_objects ADD CONSTRAINT refuse_all CHECK (false) NOT VALID');
    await expect(store.put(Buffer.alloc(3 << 20, 7))).rejects.toMatchObject({ code: 'BLOB_UNAVAILABLE' });
    await sql(schema, 'ALTER TABLE blob_objects DROP CONSTRAINT refuse_all');
    const c = new pg.Client({ connectionString: pgUrl(), options: `-c search_path=${schema}` });
    await c.connect();
    const chunks = Number((await c.query('SELECT count(*) AS n FROM blob_chunks')).rows[0].n);
    await c.end();
    expect(chunks).toBe(1); // only "kept"'s one chunk
    expect(Buffer.from(await store.get(kept.sha256)).toString()).toBe('kept');
    await store.close();
  });
});
