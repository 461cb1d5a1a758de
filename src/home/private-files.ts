// Everything in a home is private to its owner: files 0600, folders 0700. New files get those
// modes where they are created (and the CLI runs with umask 077); this also tightens what older
// versions left behind (ledger.db, api.db and their -wal/-shm, config.json, artifacts, uploads).
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

function tighten(path: string, isDir: boolean): void {
  try {
    chmodSync(path, isDir ? PRIVATE_DIR : PRIVATE_FILE);
  } catch {
    /* vanished meanwhile (a -shm file), or not ours: nothing to tighten */
  }
}

/** Tightens `path` (a file, or a folder and, with `recursive`, all under it); symlinks are left alone. */
export function makePrivate(path: string, options: { recursive?: boolean } = {}): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (!st.isDirectory()) return tighten(path, false);
  tighten(path, true);
  for (const d of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, d.name);
    if (d.isSymbolicLink()) continue;
    if (d.isDirectory()) {
      if (options.recursive) makePrivate(p, options);
      else tighten(p, true);
    } else if (d.isFile()) tighten(p, false);
  }
}
