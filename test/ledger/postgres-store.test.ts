// What only the PostgreSQL store has: versioned migrations (a newer schema refuses to start), a
// database that goes away mid-append (typed error, no half-written entry), and many writers on
// the two lock modes. Each outage test runs its own cluster, so the shared one is never stopped.
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { generateNoteKey, openPostgresLedger, type LedgerError } from '../../ledger/index.js';
import { startPostgres, type TestPostgres } from '../../scripts/embedded-postgres.js';

const key = generateNoteKey('pg.example/log');
const url = inject('postgresUrl');
let n = 0;
const schema = () => `pgt_${process.pid}_${n++}`;

describe('PostgreSQL ledger: migrations', () => {
  it('records the schema version; a newer one refuses to start with a clear message', async () => {
    const s = schema();
    openPostgresLedger(url, { schema: s, signerKey: key.signerKey, create: true }).close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query(`SELECT component, version FROM ${s}.hallmark_migrations`);
      expect(r.rows).toEqual([{ component: 'ledger', version: 1 }]);
      await c.query(`INSERT INTO ${s}.hallmark_migrations (component, version) VALUES ('ledger', 2)`);
    } finally {
      await c.end();
    }
    for (const create of [false, true]) {
      let err: LedgerError | undefined;
      try {
        openPostgresLedger(url, { schema: s, signerKey: key.signerKey, create }).close();
      } catch (e) {
        err = e as LedgerError;
      }
      expect(err?.code).toBe('LEDGER_UNSUPPORTED_VERSION');
      expect(err?.message).toMatch(/version 2, newer than this hallmark understands \(1\); upgrade hallmark/);
    }
  });

  it('an unreachable database is a typed error', () => {
    const bad = url.replace(/:(\d+)\//, ':1/');
    expect(() => openPostgresLedger(bad, { schema: schema(), timeoutMs: 20_000 })).toThrow(expect.objectContaining({ code: 'LEDGER_UNAVAILABLE' }));
    expect(() => openPostgresLedger('http://x', {})).toThrow(TypeError);
  });

  it('appends the same way under the advisory lock as under the row lock', async () => {
    const s = schema();
    const a = openPostgresLedger(url, { schema: s, signerKey: key.signerKey, create: true, lock: 'advisory' });
    const b = openPostgresLedger(url, { schema: s, lock: 'advisory' });
    for (let i = 0; i < 20; i++) (i % 2 ? a : b).appendBatch([{ type: 'n.x', payload: { i } }, { type: 'n.x', payload: { i, j: 1 } }]);
    expect(a.size()).toBe(40);
    a.checkpoint();
    expect(await a.audit()).toMatchObject({ ok: true, size: 40 });
    a.close();
    b.close();
  });
});

describe('PostgreSQL ledger: the database goes away mid-append', () => {
  let server: TestPostgres | undefined;
  afterAll(async () => server?.destroy());

  it('gives LEDGER_UNAVAILABLE, writes no half entry, and works again after a restart', async () => {
    server = await startPostgres({ fast: true });
    const s = schema();
    const l = openPostgresLedger(server.url, { schema: s, signerKey: key.signerKey, create: true, timeoutMs: 30_000 });
    l.appendBatch(Array.from({ length: 50 }, (_, i) => ({ type: 'n.x', payload: { i } })));
    // Stop the cluster from a child process while this thread keeps appending batches.
    const stopping = server.stop();
    let acknowledged = 50;
    let error: LedgerError | undefined;
    const t0 = Date.now();
    while (!error && Date.now() - t0 < 30_000) {
      try {
        l.appendBatch(Array.from({ length: 200 }, (_, i) => ({ type: 'n.x', payload: { i, big: 'y'.repeat(300) } })));
        acknowledged += 200;
      } catch (e) {
        error = e as LedgerError;
      }
      await new Promise((r) => setImmediate(r)); // let the stop proceed
    }
    await stopping;
    expect(error?.code).toBe('LEDGER_UNAVAILABLE');
    expect(error?.message).toMatch(/unavailable|did not answer/);
    l.close();
    await server.restart();
    const r = openPostgresLedger(server.url, { schema: s, signerKey: key.signerKey });
    // Every acknowledged batch is there, the failed one is wholly absent, and the tree is whole.
    expect(r.size()).toBe(acknowledged);
    r.checkpoint();
    expect(await r.audit()).toMatchObject({ ok: true, size: acknowledged, problems: [] });
    r.close();
  });
});
