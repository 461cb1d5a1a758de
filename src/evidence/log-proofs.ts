// Entries with inclusion proofs to one signed checkpoint, and consistency between checkpoints:
// the parts both bundles share. Writers take them from a Ledger; readers trust only the log's
// verifier key and recompute every hash.
import {
  decodeEntry, equalBytes, hashLeaf, isHallmarkError, newVerifier, openCheckpoint, toBase64, toHex, verifyConsistency, verifyInclusion,
  type Entry, type Ledger, type SignedCheckpoint,
} from '../../ledger/index.js';
import { failed, malformed } from './errors.js';
import { arr, decodeBase64, int, obj, str } from './strict-json.js';

export const MAX_BUNDLE_ENTRIES = 10_000;
const MAX_PROOF = 128;
const MAX_NOTE = 64 << 10;

export interface ProvenEntryJson {
  index: number;
  bytes: string;
  proof: string[];
}

export interface VerifiedEntry {
  readonly index: number;
  readonly entry: Entry;
  readonly bytes: Uint8Array;
  readonly leafHash: Uint8Array;
}

export interface VerifiedCheckpoint {
  readonly note: string;
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
}

/** Entry bytes and inclusion proofs, in index order, against a checkpoint of the given size. */
export function proveEntries(ledger: Ledger, indices: Iterable<number>, size: number): ProvenEntryJson[] {
  return [...new Set(indices)].sort((a, b) => a - b).map((i) => {
    const e = ledger.get(i);
    const p = ledger.inclusionProof(i, size);
    return { index: i, bytes: toBase64(e.bytes), proof: p.hashes.map(toBase64) };
  });
}

/** Opens a checkpoint note with the log key; the failure names the checkpoint. */
export function openLogCheckpoint(note: unknown, logKey: string, what: string): VerifiedCheckpoint {
  const text = str(note, what, MAX_NOTE);
  try {
    const cp = openCheckpoint(text, newVerifier(logKey));
    return { note: text, origin: cp.origin, size: cp.size, root: cp.root };
  } catch (err) {
    if (isHallmarkError(err)) throw failed(`${what}: ${err.message}`, err);
    throw err;
  }
}

function rethrow(err: unknown, what: string): never {
  if (isHallmarkError(err)) throw failed(`${what}: ${err.message}`, err);
  throw err;
}

/**
 * Checks every entry: canonical bytes, its own index, its inclusion proof to the checkpoint, and
 * the hash chain (`prev`) wherever two entries are consecutive in the log.
 */
export function verifyProvenEntries(v: unknown, cp: VerifiedCheckpoint, what: string): VerifiedEntry[] {
  const list = arr(v, what, MAX_BUNDLE_ENTRIES);
  const out: VerifiedEntry[] = [];
  for (const [k, item] of list.entries()) {
    const o = obj(item, `${what}[${k}]`, ['index', 'bytes', 'proof']);
    const index = int(o.index, `${what}[${k}].index`);
    const label = `entry ${index}`;
    if (out.length > 0 && index <= out[out.length - 1]!.index) throw malformed(`${what} must be in increasing index order without repeats (entry ${index} is out of place)`);
    if (index >= cp.size) throw failed(`${label} is not covered by the checkpoint of size ${cp.size}`);
    const bytes = decodeBase64(o.bytes, `${label} bytes`, 1 << 20);
    const proof = arr(o.proof, `${label} proof`, MAX_PROOF).map((h, j) => decodeBase64(h, `${label} proof[${j}]`, 32));
    let entry: Entry;
    try {
      entry = decodeEntry(bytes);
    } catch (err) {
      rethrow(err, `${label} bytes are not a ledger entry`);
    }
    if (entry.index !== index) throw failed(`${label}: its bytes say index ${entry.index}`);
    const leafHash = hashLeaf(bytes);
    try {
      verifyInclusion(index, cp.size, leafHash, proof, cp.root);
    } catch (err) {
      rethrow(err, `${label}: inclusion proof does not lead to the checkpoint root`);
    }
    const before = out[out.length - 1];
    if (index === 0 && entry.prev !== null) throw failed('entry 0: prev must be null');
    if (before && before.index === index - 1 && entry.prev !== toHex(before.leafHash)) throw failed(`${label}: prev does not chain to entry ${before.index}`);
    out.push({ index, entry, bytes, leafHash });
  }
  return out;
}

export interface ConsistencyJson {
  from: number;
  to: number;
  proof: string[];
}

export function proveConsistency(ledger: Ledger, from: SignedCheckpoint, to: SignedCheckpoint): ConsistencyJson {
  return { from: from.size, to: to.size, proof: ledger.consistencyProof(from.size, to.size).hashes.map(toBase64) };
}

/** Checks that the older checkpoint's tree is a prefix of the newer one's. */
export function verifyCheckpointConsistency(v: unknown, older: VerifiedCheckpoint, newer: VerifiedCheckpoint, what: string): void {
  const o = obj(v, what, ['from', 'to', 'proof']);
  if (int(o.from, `${what}.from`) !== older.size || int(o.to, `${what}.to`) !== newer.size) throw failed(`${what} is between sizes ${String(o.from)} and ${String(o.to)}, want ${older.size} and ${newer.size}`);
  if (older.origin !== newer.origin) throw failed(`${what}: the checkpoints are of different logs`);
  const proof = arr(o.proof, `${what}.proof`, MAX_PROOF).map((h, j) => decodeBase64(h, `${what}.proof[${j}]`, 32));
  if (older.size > newer.size) throw failed(`${what}: checkpoint of size ${older.size} is newer than the one of size ${newer.size}`);
  if (older.size === newer.size) {
    if (proof.length !== 0 || !equalBytes(older.root, newer.root)) throw failed(`${what}: two checkpoints of size ${older.size} with different roots (a forked log)`);
    return;
  }
  try {
    verifyConsistency(older.size, newer.size, proof, older.root, newer.root);
  } catch (err) {
    rethrow(err, `${what} does not verify`);
  }
}
