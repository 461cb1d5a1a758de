// The ledger as a C2SP tlog-tiles log, read-only, under TILES_PREFIX: /checkpoint (mutable, not
// cached), /tile/<L>/<N>[.p/<W>] and /tile/entries/<N>[.p/<W>] (immutable, cached for a year).
// Tiles describe the tree of the published checkpoint; anything else is 404, as the spec has it.
import type { Context } from 'hono';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isHallmarkError, parseCheckpoint, parseTilePath, readTile, type Ledger } from '../../../ledger/index.js';
import type { AppDeps, RouteGroup } from '../context.js';

export const TILES_PREFIX = '/tlog';

/** The checkpoint the log publishes: cosigned when witnesses are configured (src/witness), else the latest signed one. */
export type PublishedCheckpoint = (ledger: Ledger, deps: AppDeps) => { note: string; size: number } | undefined;

/**
 * With a tlog-policy in the home, only the checkpoint `hallmark ledger publish` wrote once the
 * witnesses' quorum was met (home/checkpoint.published); without one, the latest signed checkpoint.
 */
const homePublished: PublishedCheckpoint = (ledger, deps) => {
  if (existsSync(join(deps.homeDir, 'tlog-policy'))) {
    const p = join(deps.homeDir, 'checkpoint.published');
    if (!existsSync(p)) return undefined;
    const note = readFileSync(p, 'utf8');
    return { note, size: parseCheckpoint(note.slice(0, note.indexOf('\n\n') + 1)).size };
  }
  const cp = ledger.latestCheckpoint();
  return cp ? { note: cp.note, size: cp.size } : undefined;
};

function notFound(c: Context, what: string): Response {
  return c.text(`${what}\n`, 404, { 'Cache-Control': 'no-store' });
}

export function tileRoutes(published: PublishedCheckpoint = homePublished): RouteGroup {
  return (app, deps) => {
    app.get(`${TILES_PREFIX}/checkpoint`, (c) => {
      const cp = published(deps.ledger, deps);
      if (!cp) return notFound(c, 'no checkpoint has been published yet');
      return c.body(cp.note, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
    });
    app.get(`${TILES_PREFIX}/tile/*`, (c) => {
      const rest = c.req.path.slice(TILES_PREFIX.length + 1);
      const id = parseTilePath(rest);
      if (!id) return notFound(c, 'not a tile path');
      const cp = published(deps.ledger, deps);
      if (!cp) return notFound(c, 'no checkpoint has been published yet');
      let bytes: Uint8Array;
      try {
        bytes = readTile(deps.ledger, id, cp.size);
      } catch (err) {
        if (isHallmarkError(err) && err.code === 'LEDGER_OUT_OF_RANGE') return notFound(c, `no such tile in the tree of size ${cp.size}`);
        throw err;
      }
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'public, max-age=31536000, immutable' });
    });
  };
}
