// Tampering with a real database file, the way an insider with sqlite3 would: every modified,
// deleted, inserted or reordered row is found and reported with its index.
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, hashLeaf, openLedger, type AuditReport } from '../../ledger/index.js';
import { REPO } from '../helpers/paths.js';

// The same checks run in-thread (the TypeScript sources) and split across worker threads (the
// compiled code in dist/, where the worker script exists), so both paths are proven.
const compiled = (await import(join(REPO, 'dist/ledger/index.js'))) as typeof import('../../ledger/index.js');
const modes = [
  { mode: 'in-thread', open: openLedger, options: {} },
  { mode: 'worker threads', open: compiled.openLedger, options: { workers: 3, parallelThreshold: 0 } },
];

const key = generateNoteKey('audit.example/log');
const dir = mkdtempSync(join(tmpdir(), 'hm-audit-'));
const pristine = join(dir, 'pristine.db');
const SIZE = 100;

beforeAll(() => {
  const l = openLedger(pristine, { signerKey: key.signerKey, create: true });
  for (let b = 0; b < 4; b++) {
    l.appendBatch(Array.from({ length: SIZE / 4 }, (_, i) => ({ type: 'n.x', payload: { i: b * 25 + i } })));
    l.checkpoint();
  }
  l.close();
});

const data = (db: Database.Database, i: number) => (db.prepare('SELECT data FROM entries WHERE idx = ?').get(i) as { data: Buffer }).data;
const messages = (r: AuditReport) => r.problems.map((p) => p.message).join('\n');

let n = 0;
describe.each(modes)('audit of a real database file ($mode)', ({ open, options }) => {
  async function tamper(sql: (db: Database.Database) => void): Promise<AuditReport> {
    const path = join(dir, `t${n++}.db`);
    copyFileSync(pristine, path);
    const db = new Database(path);
    sql(db);
    db.close();
    const l = open(path);
    try {
      return await l.audit(options);
    } finally {
      l.close();
    }
  }

  it('passes on the untouched ledger', async () => {
    const r = await tamper(() => {});
    expect(r).toMatchObject({ ok: true, size: SIZE, checkpoints: 4, uncheckpointed: 0, problems: [] });
  });

  it('finds a modified entry even when its leaf hash is patched to match', async () => {
    const r = await tamper((db) => {
      const forged = Buffer.from(data(db, 42).toString().replace('"i":42', '"i":43'));
      db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = 42').run(forged, hashLeaf(forged));
    });
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.kind === 'entry' && p.index === 43 && /chain broken/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.kind === 'node' && /does not match its children/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.kind === 'checkpoint' && /entries before/.test(p.message))).toBe(true);
  });

  it('finds a flipped byte in the stored bytes', async () => {
    const r = await tamper((db) => {
      const b = Buffer.from(data(db, 7));
      b[b.length - 3] = b[b.length - 3]! ^ 0x20;
      db.prepare('UPDATE entries SET data = ? WHERE idx = 7').run(b);
    });
    expect(r.problems.some((p) => p.index === 7 && /leaf hash does not match/.test(p.message))).toBe(true);
  });

  it('finds a deleted entry', async () => {
    const r = await tamper((db) => db.prepare('DELETE FROM entries WHERE idx = 13').run());
    expect(messages(r)).toMatch(/entry 13 is missing/);
  });

  it('finds deleted entries at the tail (covered by a checkpoint)', async () => {
    const r = await tamper((db) => db.prepare('DELETE FROM entries WHERE idx >= 90').run());
    expect(messages(r)).toMatch(/only 90 entries/);
  });

  it('finds two entries swapped', async () => {
    const r = await tamper((db) => {
      const a = data(db, 20);
      const b = data(db, 21);
      db.prepare('UPDATE entries SET data = ? WHERE idx = 20').run(b);
      db.prepare('UPDATE entries SET data = ? WHERE idx = 21').run(a);
    });
    expect(r.problems.some((p) => p.index === 20 && /says it is index 21/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.index === 21 && /says it is index 20/.test(p.message))).toBe(true);
  });

  it('finds an inserted entry (rows shifted up by one)', async () => {
    const r = await tamper((db) => {
      db.prepare('UPDATE entries SET idx = idx + 1000 WHERE idx >= 50').run();
      db.prepare('UPDATE entries SET idx = idx - 999 WHERE idx >= 1000').run();
      const fake = Buffer.from(data(db, 49).toString().replace('"index":49', '"index":50'));
      db.prepare('INSERT INTO entries (idx, leaf_hash, type, data) VALUES (50, ?, ?, ?)').run(hashLeaf(fake), 'n.x', fake);
    });
    expect(r.ok).toBe(false);
    expect(r.problems.some((p) => p.kind === 'entry' && p.index === 51)).toBe(true);
  });

  it('finds a modified, a deleted and an extra tree node', async () => {
    const r = await tamper((db) => {
      db.prepare('UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 2').run();
      db.prepare('DELETE FROM nodes WHERE level = 1 AND idx = 5').run();
      db.prepare('INSERT INTO nodes (level, idx, hash) VALUES (2, 99, zeroblob(32))').run();
    });
    expect(r.problems.map((p) => [p.kind, p.level, p.index])).toEqual(expect.arrayContaining([['node', 3, 2], ['node', 1, 5], ['node', 2, 99]]));
  });

  it('finds a forged checkpoint note and a swapped stored root', async () => {
    const r = await tamper((db) => {
      const note = (db.prepare('SELECT note FROM checkpoints WHERE size = 50').get() as { note: string }).note;
      db.prepare('UPDATE checkpoints SET note = ? WHERE size = 50').run(note.replace('\n50\n', '\n51\n'));
      db.prepare('UPDATE checkpoints SET root = zeroblob(32) WHERE size = 75').run();
    });
    expect(r.problems.some((p) => p.kind === 'checkpoint' && p.index === 50 && /signature/.test(p.message))).toBe(true);
    expect(r.problems.some((p) => p.kind === 'checkpoint' && p.index === 75)).toBe(true);
  });
});
