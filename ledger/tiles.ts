// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the tree served as static tiles. The tile at
// level L, index N holds up to 256 hashes MTH(D[(N*256+i)*256^L : (N*256+i+1)*256^L]), i.e. the
// stored perfect subtrees at tree level 8L, indices N*256+i. Entry bundles hold the entries'
// canonical bytes, each behind a big-endian uint16 length. Tiles describe the tree of one size
// (a published checkpoint): full tiles inside it, and the rightmost partial tile of each level,
// of width floor(size / 256^L) mod 256.
import { LedgerError } from './errors.js';
import type { Ledger } from './ledger.js';

export const TILE_WIDTH = 256;
export const TILE_HEIGHT = 8;
/** An entry bundle prefixes each entry with a uint16 length. */
export const MAX_BUNDLE_ENTRY = 0xffff;

export interface TileId {
  /** 'hash' for /tile/<L>/..., 'entries' for /tile/entries/... */
  readonly kind: 'hash' | 'entries';
  readonly level: number;
  readonly index: number;
  /** 256 for a full tile, 1..255 for a partial one. */
  readonly width: number;
}

/** <N> as zero-padded 3-digit path elements, all but the last prefixed by x: 1234067 -> x001/x234/067. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`tile index must be a non-negative integer, got ${n}`);
  const groups: string[] = [];
  let v = n;
  do {
    groups.unshift(String(v % 1000).padStart(3, '0'));
    v = Math.floor(v / 1000);
  } while (v > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** The resource path of a tile, relative to the log prefix. */
export function tilePath(t: TileId): string {
  const head = t.kind === 'entries' ? 'tile/entries' : `tile/${t.level}`;
  return `${head}/${encodeTileIndex(t.index)}${t.width < TILE_WIDTH ? `.p/${t.width}` : ''}`;
}

/**
 * Parses "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]"; only the canonical spelling is
 * accepted (no extra leading zeroes, no needless x000 elements), so one tile has one path.
 */
export function parseTilePath(path: string): TileId | undefined {
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!m) return undefined;
  const kind = m[1] === 'entries' ? 'entries' : 'hash';
  const level = kind === 'entries' ? 0 : Number(m[1]);
  if (level > 63) return undefined;
  const digits = m[2]!.replace(/x/g, '').replace(/\//g, '');
  if (digits.length > 15) return undefined;
  const index = Number(digits);
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (width < 1 || width > 255 && width !== TILE_WIDTH) return undefined;
  const id: TileId = { kind, level, index, width };
  return tilePath(id) === path ? id : undefined;
}

/** 256^level as a number, or Infinity past what a safe integer tree size can hold. */
function span(level: number): number {
  return level > 6 ? Infinity : TILE_WIDTH ** level;
}

/** Whether a tile belongs to the tree of this size: a full tile inside it, or its partial edge. */
export function tileInTree(t: TileId, treeSize: number): boolean {
  const s = span(t.level);
  if (!Number.isFinite(s)) return false;
  const hashes = Math.floor(treeSize / s); // complete subtrees at this level
  const start = t.index * TILE_WIDTH;
  if (t.width === TILE_WIDTH) return start + TILE_WIDTH <= hashes;
  return start === hashes - (hashes % TILE_WIDTH) && t.width === hashes % TILE_WIDTH;
}

/** Every tile (hash tiles of each level, then entry bundles) of the tree of this size. */
export function tilesOfTree(treeSize: number): TileId[] {
  const out: TileId[] = [];
  for (let level = 0; Number.isFinite(span(level)) && Math.floor(treeSize / span(level)) > 0; level++) {
    const hashes = Math.floor(treeSize / span(level));
    const full = Math.floor(hashes / TILE_WIDTH);
    for (let i = 0; i < full; i++) out.push({ kind: 'hash', level, index: i, width: TILE_WIDTH });
    if (hashes % TILE_WIDTH) out.push({ kind: 'hash', level, index: full, width: hashes % TILE_WIDTH });
  }
  const full = Math.floor(treeSize / TILE_WIDTH);
  for (let i = 0; i < full; i++) out.push({ kind: 'entries', level: 0, index: i, width: TILE_WIDTH });
  if (treeSize % TILE_WIDTH) out.push({ kind: 'entries', level: 0, index: full, width: treeSize % TILE_WIDTH });
  return out;
}

function notInTree(t: TileId, treeSize: number): LedgerError {
  return new LedgerError('LEDGER_OUT_OF_RANGE', `${tilePath(t)} is not a tile of the tree of size ${treeSize}`);
}

/** A hash tile's bytes: width concatenated 32-byte hashes. */
export function readHashTile(ledger: Ledger, t: TileId, treeSize: number): Uint8Array {
  if (t.kind !== 'hash' || !tileInTree(t, treeSize)) throw notInTree(t, treeSize);
  const hashes = ledger.subtreeHashes(TILE_HEIGHT * t.level, t.index * TILE_WIDTH, t.width);
  const out = new Uint8Array(32 * hashes.length);
  hashes.forEach((h, i) => out.set(h, 32 * i));
  return out;
}

/** An entry bundle: each entry's canonical bytes behind a big-endian uint16 length. */
export function readEntryBundle(ledger: Ledger, t: TileId, treeSize: number): Uint8Array {
  if (t.kind !== 'entries' || !tileInTree(t, treeSize)) throw notInTree(t, treeSize);
  const entries = ledger.list({ from: t.index * TILE_WIDTH, limit: t.width });
  if (entries.length !== t.width) throw new LedgerError('LEDGER_TAMPERED', `entries from ${t.index * TILE_WIDTH} are missing from the store`);
  const out = new Uint8Array(entries.reduce((n, e) => n + 2 + e.bytes.length, 0));
  let o = 0;
  for (const e of entries) {
    if (e.bytes.length > MAX_BUNDLE_ENTRY) {
      throw new LedgerError('LEDGER_TOO_LARGE', `entry ${e.index} is ${e.bytes.length} bytes; a tlog-tiles entry bundle holds entries of at most ${MAX_BUNDLE_ENTRY} bytes`);
    }
    out[o] = e.bytes.length >> 8;
    out[o + 1] = e.bytes.length & 0xff;
    out.set(e.bytes, o + 2);
    o += 2 + e.bytes.length;
  }
  return out;
}

export function readTile(ledger: Ledger, t: TileId, treeSize: number): Uint8Array {
  return t.kind === 'entries' ? readEntryBundle(ledger, t, treeSize) : readHashTile(ledger, t, treeSize);
}
