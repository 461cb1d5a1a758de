// The ledger served as C2SP tlog-tiles: a client written here from the spec text (not our store
// or our Merkle code) rebuilds the tree, the checkpoint root and every entry from the tiles alone,
// at sizes around tile boundaries, over HTTP (app.request) and from `ledger export-tiles`.
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ledger } from '../../ledger/index.js';
import { hallmark } from '../helpers/cli.js';
import { makeTestApi, type TestApi } from '../api/helpers.js';

// ---- a tlog-tiles client from the spec ------------------------------------------------------

const sha = (...parts: Uint8Array[]) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return new Uint8Array(h.digest()); };
const leafHash = (e: Uint8Array) => sha(Uint8Array.of(0), e);
const nodeHash = (l: Uint8Array, r: Uint8Array) => sha(Uint8Array.of(1), l, r);

/** "index 1234067 will be encoded as x001/x234/067" */
function nPath(n: number): string {
  const s = String(n).padStart(3 * Math.max(1, Math.ceil(String(n).length / 3)), '0');
  const parts = s.match(/.{3}/g)!;
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

type Get = (path: string) => Promise<Uint8Array | undefined>;

interface Rebuilt { origin: string; size: number; root: Uint8Array; entries: Uint8Array[] }

/** Opens a signed note with one Ed25519 key "name+keyid+base64(0x01||pub)". */
function openNote(note: string, vkey: string): string {
  const [name, , ...rest] = vkey.split('+');
  const b64 = rest.join('+'); // base64 may itself hold '+'
  const raw = Buffer.from(b64, 'base64');
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw.subarray(1)]);
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const i = note.indexOf('\n\n');
  const text = note.slice(0, i + 1);
  const sigs = note.slice(i + 2).trim().split('\n');
  const line = sigs.find((l) => l.startsWith(`\u2014 ${name} `));
  if (!line) throw new Error('no signature by the log');
  const blob = Buffer.from(line.split(' ')[2]!, 'base64');
  if (!edVerify(null, Buffer.from(text), key, blob.subarray(4))) throw new Error('bad log signature');
  return text;
}

async function rebuild(get: Get, vkey: string): Promise<Rebuilt> {
  const cpBytes = await get('checkpoint');
  if (!cpBytes) throw new Error('no checkpoint');
  const [origin, sizeLine, rootLine] = openNote(Buffer.from(cpBytes).toString('utf8'), vkey).split('\n') as [string, string, string];
  const size = Number(sizeLine);
  const root = new Uint8Array(Buffer.from(rootLine, 'base64'));
  const tiles = new Map<string, Uint8Array>();

  // "The partial tile at level l for a tree of size s has floor(s / 256**l) mod 256 entries."
  const tileName = (l: number | 'entries', n: number) => {
    const level = l === 'entries' ? 0 : l;
    const count = Math.floor(size / 256 ** level);
    const full = (n + 1) * 256 <= count;
    return `tile/${l}/${nPath(n)}${full ? '' : `.p/${count % 256}`}`;
  };
  const fetchTile = async (l: number | 'entries', n: number): Promise<Uint8Array> => {
    const p = tileName(l, n);
    if (!tiles.has(p)) {
      const b = await get(p);
      if (!b) throw new Error(`missing ${p}`);
      tiles.set(p, b);
    }
    return tiles.get(p)!;
  };

  // The node at height h (2^h leaves) and index i; heights that are multiples of 8 come from tiles.
  const node = async (h: number, i: number): Promise<Uint8Array> => {
    if (h % 8 === 0) {
      const t = await fetchTile(h / 8, Math.floor(i / 256));
      const k = i % 256;
      if (t.length < 32 * (k + 1)) throw new Error(`tile too short for node ${h}/${i}`);
      return t.subarray(32 * k, 32 * (k + 1));
    }
    return nodeHash(await node(h - 1, 2 * i), await node(h - 1, 2 * i + 1));
  };
  // RFC 6962 2.1 MTH over D[a : a+n]
  const mth = async (a: number, n: number): Promise<Uint8Array> => {
    if ((n & (n - 1)) === 0 && a % n === 0) return node(Math.log2(n), a / n);
    let k = 1;
    while (k * 2 < n) k *= 2;
    return nodeHash(await mth(a, k), await mth(a + k, n - k));
  };
  const fromTiles = size === 0 ? sha() : await mth(0, size);
  if (Buffer.compare(fromTiles, root) !== 0) throw new Error('the tiles do not hash to the checkpoint root');

  // Every hash of an upper tile is the MTH of a full tile below.
  for (const [p, t] of tiles) {
    const m = /^tile\/([1-9]\d*)\//.exec(p);
    if (!m) continue;
    const l = Number(m[1]);
    const n = Number(p.slice(m[0].length).split('.p/')[0]!.replace(/x|\//g, ''));
    for (let k = 0; k < t.length / 32; k++) {
      const below = await fetchTile(l - 1, n * 256 + k);
      if (below.length !== 8192) throw new Error('an upper tile hashes a partial tile');
      let level = Array.from({ length: 256 }, (_, j) => below.subarray(32 * j, 32 * j + 32));
      while (level.length > 1) level = Array.from({ length: level.length / 2 }, (_, j) => nodeHash(level[2 * j]!, level[2 * j + 1]!));
      if (Buffer.compare(level[0]!, t.subarray(32 * k, 32 * k + 32)) !== 0) throw new Error(`${p}[${k}] is not the hash of the tile below`);
    }
  }

  // Entries: each bundle entry hashes to the level-0 tile hash at the same position.
  const entries: Uint8Array[] = [];
  for (let n = 0; n * 256 < size; n++) {
    const b = await get(tileName('entries', n));
    if (!b) throw new Error(`missing entry bundle ${n}`);
    const t0 = await fetchTile(0, n);
    let o = 0;
    let k = 0;
    while (o < b.length) {
      const len = (b[o]! << 8) | b[o + 1]!;
      const e = b.subarray(o + 2, o + 2 + len);
      if (Buffer.compare(leafHash(e), t0.subarray(32 * k, 32 * k + 32)) !== 0) throw new Error(`entry ${n * 256 + k} does not hash to its tile`);
      entries.push(e);
      o += 2 + len;
      k++;
    }
    if (k !== t0.length / 32) throw new Error(`bundle ${n} has ${k} entries, its tile ${t0.length / 32}`);
  }
  if (entries.length !== size) throw new Error(`rebuilt ${entries.length} entries, want ${size}`);
  return { origin, size, root, entries };
}

// ---- the log under test ------------------------------------------------------------------------

let api: TestApi;
let ledger: Ledger;
let vkey: string;
const httpGet = (withHeaders?: (p: string, r: Response) => void): Get => async (p) => {
  const r = await api.req(`/tlog/${p}`);
  withHeaders?.(p, r);
  if (r.status === 404) return undefined;
  expect(r.status).toBe(200);
  return new Uint8Array(await r.arrayBuffer());
};

function growTo(n: number): void {
  while (ledger.size() < n) {
    const from = ledger.size();
    const batch = Array.from({ length: Math.min(20_000, n - from) }, (_, i) => ({ type: 'test.tile', payload: { n: from + i } }));
    ledger.appendBatch(batch);
  }
  ledger.checkpoint();
}

beforeAll(() => {
  api = makeTestApi();
  ledger = api.home.ledger;
  vkey = ledger.verifierKey;
});
afterAll(() => api.dispose());

describe('tlog-tiles over HTTP', () => {
  it('serves nothing before a checkpoint, then checkpoint and tiles with the spec headers', async () => {
    // The server's checkpoint policy (docs/security.md) may sign at start: then it covers the log as it was.
    const first = await api.req('/tlog/checkpoint');
    if (first.status === 200) expect((await first.text()).split('\n')[1]).toBe(String(ledger.size()));
    else expect(first.status).toBe(404);
    growTo(3);
    const cp = await api.req('/tlog/checkpoint');
    expect(cp.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(cp.headers.get('cache-control')).toBe('no-cache');
    const t = await api.req('/tlog/tile/0/000.p/3');
    expect(t.status).toBe(200);
    expect(t.headers.get('content-type')).toBe('application/octet-stream');
    expect(t.headers.get('cache-control')).toMatch(/max-age=31536000/);
    expect((await t.arrayBuffer()).byteLength).toBe(96);
  });

  for (const size of [255, 256, 257, 1000, 65_535, 65_536, 65_537]) {
    it(`rebuilds tree, root and every entry from the tiles alone at size ${size}`, async () => {
      growTo(size);
      const seen: string[] = [];
      const r = await rebuild(httpGet((p, res) => { if (res.status === 200) seen.push(p); }), vkey);
      expect(r.size).toBe(size);
      expect(r.origin).toBe(ledger.origin);
      r.entries.forEach((e, i) => {
        const o = JSON.parse(Buffer.from(e).toString('utf8'));
        expect(o.index).toBe(i);
        expect(o.payload.n).toBe(i);
      });
      // A tree of size 256 is a full level 0 tile and a partial level 1 tile of width 1.
      if (size === 256) expect(seen.filter((p) => p.startsWith('tile/') && !p.startsWith('tile/entries')).sort()).toEqual(['tile/0/000', 'tile/1/000.p/1']);
      if (size === 65_536) expect(seen).toContain('tile/2/000.p/1');
    }, 120_000);
  }

  it('answers 404 for tiles outside the published tree and for non-canonical paths', async () => {
    const size = ledger.size(); // 65,537
    for (const p of [
      'tile/0/256', // not full yet
      'tile/0/256.p/2', // wrong width
      'tile/1/001', // no second full level 1 tile
      'tile/0/x000/000', // non-canonical index
      'tile/00/000', 'tile/0/0', 'tile/0/000.p/0', 'tile/0/000.p/256', 'tile/64/000', 'tile/entries/256.p/01',
    ]) {
      const r = await api.req(`/tlog/${p}`);
      expect(r.status, p).toBe(404);
    }
    expect((await api.req('/tlog/tile/0/256.p/1')).status).toBe(200);
    expect((await api.req('/tlog/tile/entries/256.p/1')).status).toBe(200);
    expect(size).toBe(65_537);
  });

  it('export-tiles writes the same files, which rebuild the same tree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiles-'));
    try {
      await api.close();
      const r = hallmark(['ledger', 'export-tiles', dir, '--home', api.dir, '--json']);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.treeSize).toBe(65_537);
      const fileGet: Get = async (p) => (existsSync(join(dir, p)) ? new Uint8Array(readFileSync(join(dir, p))) : undefined);
      const rebuilt = await rebuild(fileGet, vkey);
      expect(rebuilt.size).toBe(65_537);
      // Incremental: a second export keeps every full tile.
      const again = JSON.parse(hallmark(['ledger', 'export-tiles', dir, '--home', api.dir, '--json']).stdout);
      // Only the three partial tiles (tile/0/256.p/1, tile/2/000.p/1, tile/entries/256.p/1) are rewritten.
      expect(again.written).toBe(3);
      expect(again.kept).toBe(out.written - 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(api.dir, { recursive: true, force: true });
      api = makeTestApi();
    }
  }, 180_000);
});
