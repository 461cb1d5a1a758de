// Tampering with a store's real rows, the way an insider with sqlite3 or psql would: every
// modified, deleted, inserted or reordered row is found and reported with its index. Runs on a
// SQLite file (in-thread and with worker threads) and on a PostgreSQL schema.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, hashLeaf, type AuditReport } from '../../ledger/index.js';
import { REPO } from '../helpers/paths.js';
import { postgresStore, sqliteStore, type RawDb, type StoreUnderTest } from './stores.js';

// The same checks run in-thread (the TypeScript sources) and split across worker threads (the
// compiled code in dist/, where the worker script exists), so both paths are proven.
const compiled = (await import(join(REPO, 'dist/ledger/index.js'))) as typeof import('../../ledger/index.js');
const modes: { mode: string; store: StoreUnderTest; options: object }[] = [
  { mode: 'sqlite, in-thread', store: sqliteStore, options: {} },
  { mode: 'sqlite, worker threads', store: { ...sqliteStore, open: (loc, o) => compiled.openLedger(loc, o) }, options: { workers: 3, parallelThreshold: 0 } },
  { mode: 'postgres', store: postgresStore, options: {} },
];

const key = generateNoteKey('audit.example/log');
const SIZE = 100;
const pristine = new Map<string, string>();

beforeAll(() => {
  for (const { store } of modes) {
    if (pristine.has(store.name)) continue;
    const loc = store.fresh();
    const l = store.open(loc, { signerKey: key.signerKey, create: true });
    for (let b = 0; b < 4; b++) {
      l.appendBatch(Array.from({ length: SIZE / 4 }, (_, i) => ({ type: 'n.x', payload: { i: b * 25 + i } })));
      l.checkpoint();
    }
    l.close();
    pristine.set(store.name, loc);
  }
});

const data = async (db: RawDb, i: number) => (await db.get<{ data: Buffer }>('SELECT data FROM entries WHERE idx = ?', i))!.data;
const messages = (r: AuditReport) => r.problems.map((p) => p.message).join('\n');

describe.each(modes)('audit of real rows ($mode)', ({ store, options }) => {
  async function tamper(sql: (db: RawDb) => Promise<void>): Promise<AuditReport> {
    const loc = await store.copy(pristine.get(store.name)!);
    const db = await store.raw(loc);
    await sql(db);
    await db.close();
    const l = store.open(loc);
    try {
      return await l.audit(options);
    } finally {
      l.close();
    }
  }
  it('passes on the untouched ledger', async () => {
    const r = await tamper(async () => {});
    expect(r).toMatchObject({ ok: true, size: SIZE, checkpoints: 4, uncheckpointed: 0, problems: [] });
  });

  it('finds a modified entry even when its leaf hash is patched to match', async () => {
    const r = await tamper(async (db) => {
      const forged = Buffer.from((await data(db, 42)).toString().replace('"i":42', '"i":43'));
      await db.run('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = 42', forged, Buffer.from(hashLeaf(forged)));
    });
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.kind === 'entry' && p.index === 43 && /chain broken/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.kind === 'node' && /does not match its children/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.kind === 'checkpoint' && /entries before/.test(p.message))).toBe(true);
  });

  it('finds a flipped byte in the stored bytes', async () => {
    const r = await tamper(async (db) => {
      const b = Buffer.from(await data(db, 7));
      b[b.length - 3] = b[b.length - 3]! ^ 0x20;
      await db.run('UPDATE entries SET data = ? WHERE idx = 7', b);
    });
    expect(r.problems.some((p) => p.index === 7 && /leaf hash does not match/.test(p.message))).toBe(true);
  });

  it('finds a deleted entry', async () => {
    const r = await tamper((db) => db.run('DELETE FROM entries WHERE idx = 13'));
    expect(messages(r)).toMatch(/entry 13 is missing/);
  });

  it('finds deleted entries at the tail (covered by a checkpoint)', async () => {
    const r = await tamper((db) => db.run('DELETE FROM entries WHERE idx >= 90'));
    expect(messages(r)).toMatch(/only 90 entries/);
  });

  it('finds two entries swapped', async () => {
    const r = await tamper(async (db) => {
      const a = await data(db, 20);
      const b = await data(db, 21);
      await db.run('UPDATE entries SET data = ? WHERE idx = 20', b);
      await db.run('UPDATE entries SET data = ? WHERE idx = 21', a);
    });
    expect(r.problems.some((p) => p.index === 20 && /says it is index 21/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.index === 21 && /says it is index 20/.test(p.message))).toBe(true);
  });

  it('finds an inserted entry (rows shifted up by one)', async () => {
    const r = await tamper(async (db) => {
      await db.run('UPDATE entries SET idx = idx + 1000 WHERE idx >= 50');
      await db.run('UPDATE entries SET idx = idx - 999 WHERE idx >= 1000');
      const fake = Buffer.from((await data(db, 49)).toString().replace('"index":49', '"index":50'));
      await db.run('INSERT INTO entries (idx, leaf_hash, type, data) VALUES (50, ?, ?, ?)', Buffer.from(hashLeaf(fake)), 'n.x', fake);
    });
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.kind === 'entry' && p.index === 51)).toBe(true);
  });

  // Levels 4 and up: both stores keep rows there (SQLite's schema 2 rehashes levels 1-3 from the leaves).
  it('finds a modified, a deleted and an extra tree node', async () => {
    const r = await tamper(async (db) => {
      await db.run('UPDATE nodes SET hash = zeroblob(32) WHERE level = 5 AND idx = 1');
      await db.run('DELETE FROM nodes WHERE level = 4 AND idx = 5');
      await db.run('INSERT INTO nodes (level, idx, hash) VALUES (4, 99, zeroblob(32))');
    });
    expect(r.problems.map((p) => [p.kind, p.level, p.index])).toEqual(expect.arrayContaining([['node', 5, 1], ['node', 4, 5], ['node', 4, 99]]));
  });

  it('finds a row planted at a low level, stored or not', async () => {
    const r = await tamper(async (db) => {
      await db.run('DELETE FROM nodes WHERE level = 2 AND idx = 3');
      await db.run('INSERT INTO nodes (level, idx, hash) VALUES (2, 3, zeroblob(32))');
      await db.run('INSERT INTO nodes (level, idx, hash) VALUES (1, 77, zeroblob(32))');
    });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.kind, p.level, p.index])).toEqual(expect.arrayContaining([['node', 2, 3], ['node', 1, 77]]));
  });

  it('finds a forged checkpoint note and a swapped stored root', async () => {
    const r = await tamper(async (db) => {
      const note = (await db.get<{ note: string }>('SELECT note FROM checkpoints WHERE size = 50'))!.note;
      await db.run('UPDATE checkpoints SET note = ? WHERE size = 50', note.replace('\n50\n', '\n51\n'));
      await db.run('UPDATE checkpoints SET root = zeroblob(32) WHERE size = 75');
    });
    expect(r.problems.some((p) => p.kind === 'checkpoint' && p.index === 50 && /signature/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.kind === 'checkpoint' && p.index === 75)).toBe(true);
  });
});
