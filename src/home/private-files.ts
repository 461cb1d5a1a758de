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

/** What Hallmark keeps at the top of a home: only these are tightened, never a user's other files
 *  (a home may be a folder that holds other things, even a user's own home directory). */
const HOME_ENTRIES = /^(ledger\.db|api\.db)(-wal|-shm|-journal)?$|^(config\.json|log\.key|owner\.key)$|^(secrets|uploads|artifacts|timestamps)$/;

/** Makes the home folder and Hallmark's entries in it private (recursively with `recursive`). */
export function makeHomePrivate(dir: string, options: { recursive?: boolean } = {}): void {
  tighten(dir, true);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (HOME_ENTRIES.test(n)) makePrivate(join(dir, n), options);
}
