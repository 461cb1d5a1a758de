// Checkpoints on a worker thread (ledger/background-checkpoint.ts): started only once a handle
// has appended enough, the WAL stays bounded while a writer appends steadily, close() leaves no
// WAL behind, and a kill -9 while the thread runs loses no acknowledged entry.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { generateNoteKey, openLedger, type EntryInput, type Ledger } from '../../ledger/index.js';
import { REPO } from '../helpers/paths.js';

const key = generateNoteKey('checkpoints.example/log');
const fresh = () => join(mkdtempSync(join(tmpdir(), 'hm-bgck-')), 'ledger.db');
// About 520 bytes each, the size of a model record.
const batch = (from: number, n: number): EntryInput[] =>
  Array.from({ length: n }, (_, k) => ({ type: 'test.write', payload: { i: from + k, text: 'x'.repeat(400), tag: 'é😀' } }));
const status = (l: Ledger) => (l as unknown as { backgroundCheckpoints: { running: boolean; count: number } }).backgroundCheckpoints;
const walBytes = (path: string) => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe('checkpoints on a worker thread', { timeout: 120_000 }, () => {
  it('starts only after startAfterBytes, then checkpoints as entries are appended', async () => {
    const path = fresh();
    const l = openLedger(path, { signerKey: key.signerKey, create: true, backgroundCheckpoint: { startAfterBytes: 256 << 10, everyBytes: 64 << 10 } });
    l.appendBatch(batch(0, 100)); // about 52 KB
    expect(status(l).running).toBe(false);
    for (let i = 100; i < 2000; i += 100) l.appendBatch(batch(i, 100));
    expect(status(l).running).toBe(true);
    await until(() => status(l).count > 0);
    l.close();
    expect(status(l).running).toBe(false);
    const r = openLedger(path);
    expect(r.size()).toBe(2000);
    expect((await r.audit()).ok).toBe(true);
    r.close();
  });

  it('a short-lived handle (a CLI command) never starts it; false turns it off', () => {
    const path = fresh();
    const l = openLedger(path, { signerKey: key.signerKey, create: true });
    l.appendBatch(batch(0, 500)); // 260 KB, under the default 4 MiB
    expect(status(l).running).toBe(false);
    l.close();
    const off = openLedger(path, { signerKey: key.signerKey, backgroundCheckpoint: false });
    for (let i = 500; i < 3000; i += 500) off.appendBatch(batch(i, 500));
    expect(status(off)).toEqual({ running: false, count: 0 });
    off.close();
  });

  it('keeps the WAL bounded while a writer appends 30 MB, and close() leaves no WAL behind', async () => {
    const path = fresh();
    const l = openLedger(path, { signerKey: key.signerKey, create: true });
    let largest = 0;
    for (let i = 0; i < 60_000; i += 1000) {
      l.appendBatch(batch(i, 1000));
      largest = Math.max(largest, walBytes(path));
    }
    expect(status(l).running).toBe(true);
    // The writer's own threshold is 2,000 pages (8 MiB of 4 KiB pages) plus one batch's pages.
    expect(largest).toBeLessThan(12 << 20);
    expect(statSync(path).size).toBeGreaterThan(20 << 20); // the pages reached the database file
    l.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const r = openLedger(path);
    expect(r.size()).toBe(60_000);
    expect(r.get(59_999).entry.payload.i).toBe(59_999);
    expect((await r.audit()).ok).toBe(true);
    r.close();
  });

  it('kill -9 while the thread runs loses no acknowledged entry', async () => {
    const path = fresh();
    openLedger(path, { signerKey: key.signerKey, create: true }).close();
    const dist = JSON.stringify(join(REPO, 'dist/ledger/index.js'));
    const code = `const { openLedger } = await import(${dist});
      const l = openLedger(${JSON.stringify(path)}, { backgroundCheckpoint: { startAfterBytes: 1 << 20, everyBytes: 1 << 18 } });
      for (let i = 0; ; i += 500) {
        l.appendBatch(Array.from({ length: 500 }, (_, k) => ({ type: 'test.write', payload: { i: i + k, text: 'x'.repeat(400) } })));
        process.stdout.write('ok ' + (i + 500) + ' ' + (l.backgroundCheckpoints.count) + '\\n');
      }`;
    let acknowledged = 0;
    let checkpoints = 0;
    const signal = await new Promise<string | null>((resolve) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let pending = '';
      const stop = setTimeout(() => p.kill('SIGKILL'), 60_000); // a child that never gets there still ends
      p.stdout.on('data', (d: Buffer) => {
        const lines = (pending + d.toString()).split('\n');
        pending = lines.pop()!; // a line cut at the chunk's end waits for the rest
        for (const line of lines) {
          const [, n, c] = line.split(' ').map(Number);
          acknowledged = Math.max(acknowledged, n!);
          checkpoints = Math.max(checkpoints, c!);
          if (checkpoints >= 3 && acknowledged >= 20_000) p.kill('SIGKILL');
        }
      });
      p.on('exit', () => clearTimeout(stop));
      p.on('exit', (_c, s) => resolve(s));
    });
    expect(signal).toBe('SIGKILL');
    expect(checkpoints).toBeGreaterThanOrEqual(3);
    const r = openLedger(path);
    expect(r.size()).toBeGreaterThanOrEqual(acknowledged);
    expect(r.size() % 500).toBe(0); // whole batches only
    expect((await r.audit()).ok).toBe(true);
    r.close();
  });
});
