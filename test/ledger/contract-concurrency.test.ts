// Six processes append to one ledger at once (one SQLite file; one PostgreSQL schema). Afterwards
// the indices are exactly 0..n-1, every write is present once, each writer's writes keep their
// order, and the audit passes.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { generateNoteKey } from '../../ledger/index.js';
import { STORES, type StoreUnderTest } from './stores.js';

const WRITERS = 6;
const SINGLES = 60;
const BATCHES = 5;
const BATCH = 20;

const child = (store: StoreUnderTest) => `
${store.childPrelude}
const [loc, writer, singles, batches, batch] = process.argv.slice(1);
const l = openAt(loc);
let seq = 0;
for (let i = 0; i < Number(singles); i++) {
  l.append({ type: 'test.write', actor: 'w' + writer, payload: { writer: Number(writer), seq: seq++ } });
  if (i % 10 === 0 && i / 10 < Number(batches)) {
    l.appendBatch(Array.from({ length: Number(batch) }, () => ({ type: 'test.write', actor: 'w' + writer, payload: { writer: Number(writer), seq: seq++ } })));
  }
}
l.close();
`;

function run(store: StoreUnderTest, loc: string, writer: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', child(store), loc, String(writer), String(SINGLES), String(BATCHES), String(BATCH)], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${writer} exited ${code}: ${err}`))));
  });
}

describe.each(STORES)('concurrent writers in several processes: $name store', { timeout: 300_000 }, (store) => {
  it('never lose, duplicate or reorder an index', async () => {
    const loc = store.fresh();
    const key = generateNoteKey('conc.example/log');
    store.open(loc, { signerKey: key.signerKey, create: true }).close();
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => run(store, loc, w)));

    const l = store.open(loc, { signerKey: key.signerKey });
    const perWriter = SINGLES + BATCHES * BATCH;
    expect(l.size()).toBe(WRITERS * perWriter);
    const seen = new Map<number, number[]>();
    for (let from = 0; from < l.size(); from += 1000) {
      for (const e of l.list({ from, limit: 1000 })) {
        const { writer, seq } = e.entry.payload as { writer: number; seq: number };
        seen.set(writer, [...(seen.get(writer) ?? []), seq]);
      }
    }
    for (let w = 0; w < WRITERS; w++) expect(seen.get(w)).toEqual(Array.from({ length: perWriter }, (_, i) => i));
    l.checkpoint();
    expect(await l.audit()).toMatchObject({ ok: true, problems: [] });
    l.close();
  });
});
