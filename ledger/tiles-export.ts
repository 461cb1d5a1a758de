// Writes the tiles of one published tree size into a folder that any static web server or bucket
// can serve at the log's prefix: checkpoint, tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>].
// Full tiles are immutable, so ones already present are kept (an export is incremental); partial
// tiles and the checkpoint are rewritten. Each file appears whole (written aside, then renamed).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Ledger } from './ledger.js';
import { readTile, tilePath, tilesOfTree, TILE_WIDTH } from './tiles.js';

export interface ExportReport {
  readonly treeSize: number;
  readonly written: number;
  readonly kept: number;
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Exports the tree of the checkpoint's size; `checkpointNote` is served as <prefix>/checkpoint. */
export function exportTiles(ledger: Ledger, dir: string, checkpointNote: string, treeSize: number): ExportReport {
  let written = 0;
  let kept = 0;
  for (const t of tilesOfTree(treeSize)) {
    const path = join(dir, ...tilePath(t).split('/'));
    if (t.width === TILE_WIDTH && existsSync(path)) {
      kept++;
      continue;
    }
    writeAtomic(path, readTile(ledger, t, treeSize));
    written++;
  }
  writeAtomic(join(dir, 'checkpoint'), checkpointNote);
  return { treeSize, written, kept };
}
