// Time-stamp tokens live in the home folder beside the ledger, never in its tables: files
// timestamps/<size>.tsr (the DER token, as `openssl ts -verify -token_in` reads it) and
// timestamps/<size>.checkpoint (the exact signed checkpoint note bytes that were stamped).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StoredTimestamp {
  readonly size: number;
  readonly checkpoint: string;
  readonly token: Uint8Array;
}

export function timestampsDir(homeDir: string): string {
  return join(homeDir, 'timestamps');
}

/** Writes atomically (temp file + rename); a second token for the same size replaces the first. */
export function saveTimestamp(homeDir: string, t: StoredTimestamp): { token: string; checkpoint: string } {
  const dir = timestampsDir(homeDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const token = join(dir, `${t.size}.tsr`);
  const checkpoint = join(dir, `${t.size}.checkpoint`);
  writeFileSync(`${checkpoint}.tmp`, t.checkpoint);
  writeFileSync(`${token}.tmp`, t.token);
  renameSync(`${checkpoint}.tmp`, checkpoint);
  renameSync(`${token}.tmp`, token);
  return { token, checkpoint };
}

/** Every stored token with its checkpoint, by increasing size. Unreadable pairs are skipped. */
export function listTimestamps(homeDir: string): StoredTimestamp[] {
  const dir = timestampsDir(homeDir);
  if (!existsSync(dir)) return [];
  const out: StoredTimestamp[] = [];
  for (const f of readdirSync(dir)) {
    const m = /^(0|[1-9][0-9]{0,15})\.tsr$/.exec(f);
    if (!m) continue;
    const cp = join(dir, `${m[1]}.checkpoint`);
    if (!existsSync(cp)) continue;
    out.push({ size: Number(m[1]), checkpoint: readFileSync(cp, 'utf8'), token: new Uint8Array(readFileSync(join(dir, f))) });
  }
  return out.sort((a, b) => a.size - b.size);
}
