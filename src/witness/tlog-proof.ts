// C2SP tlog-proof (c2sp.org/tlog-proof@v1): an offline proof that an entry is in the log,
// "c2sp.org/tlog-proof@v1", optional "extra <base64>", "index <N>", the RFC 6962 inclusion proof
// (one base64 hash per line), an empty line, then the checkpoint verbatim (with cosignatures).
// Hallmark puts the entry's canonical bytes in `extra`, so the proof carries the entry itself:
// its leaf hash is SHA-256(0x00 || extra), and the verifier reads the entry from it.
import { decodeEntry, fromBase64, hashLeaf, toBase64, verifyInclusion, type Entry, type Ledger } from '../../ledger/index.js';
import { WitnessError } from './errors.js';
import type { Policy } from './policy.js';
import { verifyCheckpointPolicy, type PolicyCheck } from './verify-policy.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
const MAX_PROOF_BYTES = 4 << 20;
const MAX_HASHES = 63;

export interface TlogProof {
  readonly extra?: Uint8Array;
  readonly index: number;
  readonly hashes: Uint8Array[];
  readonly checkpoint: string;
}

export function formatTlogProof(p: TlogProof): string {
  return `${TLOG_PROOF_HEADER}\n${p.extra ? `extra ${toBase64(p.extra)}\n` : ''}index ${p.index}\n${p.hashes.map((h) => `${toBase64(h)}\n`).join('')}\n${p.checkpoint}`;
}

const bad = (m: string) => new WitnessError('WITNESS_BAD_PROOF', m);

export function parseTlogProof(text: string): TlogProof {
  if (typeof text !== 'string' || text.length > MAX_PROOF_BYTES) throw bad('not a tlog-proof of at most 4 MiB');
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw bad('no empty line before the checkpoint');
  const lines = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  if (lines.shift() !== TLOG_PROOF_HEADER) throw bad(`the first line must be ${TLOG_PROOF_HEADER}`);
  let extra: Uint8Array | undefined;
  if (lines[0]?.startsWith('extra ')) {
    extra = fromBase64(lines.shift()!.slice(6));
    if (!extra) throw bad('the extra line is not base64');
  }
  const m = /^index (0|[1-9][0-9]{0,15})$/.exec(lines.shift() ?? '');
  if (!m || !Number.isSafeInteger(Number(m[1]))) throw bad('want an "index <N>" line');
  if (lines.length > MAX_HASHES) throw bad(`an inclusion proof has at most ${MAX_HASHES} hashes`);
  const hashes = lines.map((l, i) => {
    const h = fromBase64(l);
    if (!h || h.length !== 32) throw bad(`proof line ${i + 1} is not a base64 SHA-256 hash`);
    return h;
  });
  return { ...(extra ? { extra } : {}), index: Number(m[1]), hashes, checkpoint };
}

/** A proof for ledger entry `index` against the given checkpoint note (signed, maybe cosigned). */
export function proveIndex(ledger: Ledger, index: number, checkpointNote: string, checkpointSize: number): TlogProof {
  const e = ledger.get(index);
  const p = ledger.inclusionProof(index, checkpointSize);
  return { extra: e.bytes, index, hashes: p.hashes, checkpoint: checkpointNote };
}

export interface VerifiedTlogProof extends PolicyCheck {
  readonly index: number;
  readonly entry?: Entry;
}

/**
 * Offline check: the checkpoint per the policy (a listed log's signature and the witness quorum),
 * then the inclusion proof for the leaf (from `leafData`, or else the proof's extra bytes).
 */
export function verifyTlogProof(text: string, policy: Policy, leafData?: Uint8Array): VerifiedTlogProof {
  const p = parseTlogProof(text);
  const check = verifyCheckpointPolicy(p.checkpoint, policy);
  const data = leafData ?? p.extra;
  if (!data) throw bad('the proof carries no entry (no extra line); give the entry bytes');
  if (p.index >= check.checkpoint.size) throw bad(`index ${p.index} is not below the checkpoint size ${check.checkpoint.size}`);
  try {
    verifyInclusion(p.index, check.checkpoint.size, hashLeaf(data), p.hashes, check.checkpoint.root);
  } catch (err) {
    throw new WitnessError('WITNESS_BAD_PROOF', `the inclusion proof does not lead to the checkpoint root: ${(err as Error).message}`, { cause: err });
  }
  let entry: Entry | undefined;
  try {
    entry = decodeEntry(data);
  } catch {
    entry = undefined; // a leaf of another log's format: proven, but not ours to read
  }
  return { ...check, index: p.index, ...(entry ? { entry } : {}) };
}
