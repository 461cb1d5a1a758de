// Large batches on SQLite, as a user's process sees them: one transaction per batch whatever its
// size, so a bad entry late in a batch or a kill -9 in the middle leaves nothing of it, a writer
// in another process holding the lock is waited for, and writers in several processes appending
// large batches at once never lose, duplicate or reorder an index. (The contract suite's
// concurrency test uses batches of 20.) Child processes run the compiled dist/.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateNoteKey, openLedger, type EntryInput, type Ledger } from '../../ledger/index.js';
import { REPO } from '../helpers/paths.js';

const key = generateNoteKey('writer.example/log');
const fresh = () => join(mkdtempSync(join(tmpdir(), 'hm-batches-')), 'ledger.db');
const dist = JSON.stringify(join(REPO, 'dist/ledger/index.js'));
const entries = (from: number, n: number, tag = 'x'): EntryInput[] =>
  Array.from({ length: n }, (_, k) => ({ type: 'test.write', actor: `w-${tag}`, payload: { i: from + k, tag, text: 'é€😀'.repeat((from + k) % 4) } }));

/** Runs ESM code in a child process with the compiled ledger as `openLedger`; resolves its stdout. */
function child(code: string, args: string[] = [], onLine?: (line: string, kill: () => void) => void): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', `const { openLedger } = await import(${dist});\n${code}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d;
      for (const line of d.toString().split('\n').filter(Boolean)) onLine?.(line, () => p.kill('SIGKILL'));
    });
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('exit', (c, signal) => resolve({ code: c, signal, out, err }));
  });
}

describe('large batches on SQLite', { timeout: 120_000 }, () => {
  it('a bad entry late in a batch leaves nothing of the batch, and the next batch follows on', async () => {
    const path = fresh();
    const l = openLedger(path, { signerKey: key.signerKey, create: true });
    l.appendBatch(entries(0, 300));
    const batch = entries(300, 1000);
    // Entries 0-699 are encoded (and their rows would follow) when entry 700 fails to encode.
    (batch[700] as { payload: Record<string, unknown> }).payload = { i: 700, bad: Number.NaN };
    expect(() => l.appendBatch(batch)).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_ENTRY' }));
    expect(l.size()).toBe(300);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM entries').get()).toEqual({ n: 300 });
    expect(db.prepare('SELECT count(*) AS n FROM nodes WHERE idx * (1 << level) >= 300').get()).toEqual({ n: 0 });
    db.close();
    const next = l.appendBatch(entries(300, 400));
    expect(next[0]!.index).toBe(300);
    expect(next[0]!.entry.prev).toBe(Buffer.from(l.get(299).leafHash).toString('hex'));
    expect(l.size()).toBe(700);
    expect((await l.audit()).ok).toBe(true);
    l.close();
  });

  it('waits for a writer in another process that holds the lock, then commits after it', async () => {
    const path = fresh();
    const l = openLedger(path, { signerKey: key.signerKey, create: true });
    l.appendBatch(entries(0, 10));
    // Another process takes SQLite's write lock and keeps it for 600 ms.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const holder = child(
      `const Database = (await import(${JSON.stringify(join(REPO, 'node_modules/better-sqlite3/lib/index.js'))})).default;
const db = new Database(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
console.log('locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
const at = Date.now(); // read before the lock goes: our commit can only come after it
db.exec('ROLLBACK');
console.log('released ' + at);`,
      [path],
      (line) => line === 'locked' && release(),
    );
    await released;
    const stored = l.appendBatch(entries(10, 500));
    const done = Date.now();
    const releasedAt = Number(/released (\d+)/.exec((await holder).out)?.[1]);
    // The batch waited for the other process (no timing bound: only the order of the two).
    expect(done).toBeGreaterThanOrEqual(releasedAt);
    expect(stored[0]!.index).toBe(10);
    expect(l.size()).toBe(510);
    expect((await l.audit()).ok).toBe(true);
    l.close();
  });

  it('kill -9 in the middle of a batch leaves the ledger as it was before the batch', async () => {
    const path = fresh();
    openLedger(path, { signerKey: key.signerKey, create: true }).close();
    let killedAfter = -1;
    const r = await child(
      `const l = openLedger(process.argv[1]);
const mk = (from, n) => Array.from({ length: n }, (_, k) => ({ type: 'test.write', payload: { i: from + k, pad: 'p'.repeat(200) } }));
l.appendBatch(mk(0, 1000));
console.log('go ' + l.size());
l.appendBatch(mk(1000, 100000));
console.log('done ' + l.size());`,
      [path],
      (line, kill) => {
        if (line.startsWith('go ')) {
          killedAfter = Number(line.slice(3));
          setTimeout(kill, 150);
        }
      },
    );
    expect(killedAfter).toBe(1000);
    expect(r.signal).toBe('SIGKILL');
    expect(r.out).not.toContain('done');
    const l = openLedger(path, { signerKey: key.signerKey });
    expect(l.size()).toBe(1000);
    expect((await l.audit()).ok).toBe(true);
    // The ledger goes on from where it was.
    expect(l.appendBatch(entries(1000, 300))[0]!.index).toBe(1000);
    expect((await l.audit()).ok).toBe(true);
    l.close();
  });

  it('three processes appending large batches at once never lose, duplicate or reorder an index', async () => {
    const path = fresh();
    openLedger(path, { signerKey: key.signerKey, create: true }).close();
    const writers = [0, 1, 2].map((w) =>
      child(
        `const l = openLedger(process.argv[1]);
const w = Number(process.argv[2]);
let seq = 0;
for (let b = 0; b < 4; b++) {
  l.appendBatch(Array.from({ length: 600 }, () => ({ type: 'test.write', actor: 'w' + w, payload: { w, seq: seq++ } })));
  l.append({ type: 'test.write', actor: 'w' + w, payload: { w, seq: seq++ } });
}
l.close();`,
        [path, String(w)],
      ),
    );
    for (const r of await Promise.all(writers)) expect(r.code, r.err).toBe(0);
    const l: Ledger = openLedger(path, { signerKey: key.signerKey });
    expect(l.size()).toBe(3 * 4 * 601);
    const seen = new Map<number, number>();
    for (const e of l.list({ limit: 10_000 })) {
      const { w, seq } = e.entry.payload as { w: number; seq: number };
      expect(seq).toBe(seen.get(w) ?? 0);
      seen.set(w, seq + 1);
    }
    expect([...seen.values()]).toEqual([2404, 2404, 2404]);
    expect((await l.audit()).ok).toBe(true);
    l.close();
  });
});
