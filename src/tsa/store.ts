// Time-stamp tokens live in the home folder beside the ledger, never in its tables, as the files
// the openssl tools read:
//   timestamps/<size>.tst         the DER TimeStampToken (`openssl ts -verify -in F -token_in`)
//   timestamps/<size>.tsr         the TSA's whole DER TimeStampResp (`openssl ts -reply -in F`,
//                                 `openssl ts -verify -in F`)
//   timestamps/<size>.checkpoint  the exact signed checkpoint note bytes that were stamped
// Homes written before the .tst file existed kept the token in <size>.tsr: such a file is read
// as a token when it does not parse as a TimeStampResp.
import * as pkijs from 'pkijs';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDer } from './asn1.js';

export interface StoredTimestamp {
  readonly size: number;
  readonly checkpoint: string;
  readonly token: Uint8Array;
  /** The whole TimeStampResp, where the TSA's reply was kept. */
  readonly response?: Uint8Array;
}

export interface TimestampFiles {
  readonly token: string;
  readonly response: string;
  readonly checkpoint: string;
}

export function timestampsDir(homeDir: string): string {
  return join(homeDir, 'timestamps');
}

function writeAtomic(path: string, bytes: Uint8Array | string): void {
  writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Writes atomically (temp file + rename), the checkpoint first; a second stamp of the same size replaces the first. */
export function saveTimestamp(homeDir: string, t: StoredTimestamp): TimestampFiles {
  const dir = timestampsDir(homeDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = { token: join(dir, `${t.size}.tst`), response: join(dir, `${t.size}.tsr`), checkpoint: join(dir, `${t.size}.checkpoint`) };
  writeAtomic(files.checkpoint, t.checkpoint);
  writeAtomic(files.token, t.token);
  if (t.response) writeAtomic(files.response, t.response);
  return files;
}

/** The token inside a stored TimeStampResp, or undefined when the bytes are not a response. */
function tokenFromResponse(bytes: Uint8Array): Uint8Array | undefined {
  try {
    const resp = parseDer(bytes, 'TimeStampResp', (s) => new pkijs.TimeStampResp({ schema: s }), 'TSA_BAD_RESPONSE');
    return resp.timeStampToken ? new Uint8Array(resp.timeStampToken.toSchema().toBER()) : undefined;
  } catch {
    return undefined;
  }
}

/** Every stored token with its checkpoint (and response, when kept), by increasing size. Unreadable sets are skipped. */
export function listTimestamps(homeDir: string): StoredTimestamp[] {
  const dir = timestampsDir(homeDir);
  if (!existsSync(dir)) return [];
  const sizes = new Set<string>();
  for (const f of readdirSync(dir)) {
    const m = /^(0|[1-9][0-9]{0,15})\.(tsr|tst)$/.exec(f);
    if (m) sizes.add(m[1]!);
  }
  const out: StoredTimestamp[] = [];
  for (const size of sizes) {
    const cp = join(dir, `${size}.checkpoint`);
    if (!existsSync(cp)) continue;
    const tst = join(dir, `${size}.tst`);
    const tsr = join(dir, `${size}.tsr`);
    const response = existsSync(tsr) ? new Uint8Array(readFileSync(tsr)) : undefined;
    const fromResponse = response ? tokenFromResponse(response) : undefined;
    const token = existsSync(tst) ? new Uint8Array(readFileSync(tst)) : fromResponse ?? response;
    if (!token) continue;
    out.push({ size: Number(size), checkpoint: readFileSync(cp, 'utf8'), token, ...(fromResponse && response ? { response } : {}) });
  }
  return out.sort((a, b) => a.size - b.size);
}
