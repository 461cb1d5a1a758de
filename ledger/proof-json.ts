// The wire form of proofs, shared by the CLI, the API and the bundles: hashes in base64.
// Parsing is defensive: these objects come from files and requests we did not write.
import { LedgerError } from './errors.js';
import { fromBase64, HASH_SIZE, toBase64 } from './hash.js';
import type { ConsistencyProof, InclusionProof } from './ledger.js';

/** A proof never needs more than 2 * 64 hashes; anything longer is refused before decoding. */
const MAX_PROOF_HASHES = 128;

export interface InclusionProofJson {
  index: number;
  treeSize: number;
  leafHash: string;
  hashes: string[];
  checkpoint?: string;
}

export interface ConsistencyProofJson {
  from: number;
  to: number;
  hashes: string[];
  checkpoint?: string;
}

const bad = (m: string) => new LedgerError('LEDGER_BAD_PROOF', m);

function size(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${name} must be a non-negative integer`);
  return v;
}

function hash(v: unknown, name: string): Uint8Array {
  const b = typeof v === 'string' ? fromBase64(v) : undefined;
  if (!b || b.length !== HASH_SIZE) throw bad(`${name} must be a base64 SHA-256 hash`);
  return b;
}

function hashes(v: unknown): Uint8Array[] {
  if (!Array.isArray(v) || v.length > MAX_PROOF_HASHES) throw bad(`hashes must be an array of at most ${MAX_PROOF_HASHES} base64 hashes`);
  return v.map((h, i) => hash(h, `hashes[${i}]`));
}

function object(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('a proof must be a JSON object');
  return v as Record<string, unknown>;
}

export function proofToJson(p: InclusionProof, checkpoint?: string): InclusionProofJson {
  return { index: p.index, treeSize: p.treeSize, leafHash: toBase64(p.leafHash), hashes: p.hashes.map(toBase64), ...(checkpoint ? { checkpoint } : {}) };
}

export function proofFromJson(v: unknown): InclusionProof & { checkpoint?: string } {
  const o = object(v);
  const cp = o.checkpoint;
  if (cp !== undefined && typeof cp !== 'string') throw bad('checkpoint must be a signed note string');
  return { index: size(o.index, 'index'), treeSize: size(o.treeSize, 'treeSize'), leafHash: hash(o.leafHash, 'leafHash'), hashes: hashes(o.hashes), ...(cp ? { checkpoint: cp } : {}) };
}

export function consistencyToJson(p: ConsistencyProof, checkpoint?: string): ConsistencyProofJson {
  return { from: p.from, to: p.to, hashes: p.hashes.map(toBase64), ...(checkpoint ? { checkpoint } : {}) };
}

export function consistencyFromJson(v: unknown): ConsistencyProof & { checkpoint?: string } {
  const o = object(v);
  const cp = o.checkpoint;
  if (cp !== undefined && typeof cp !== 'string') throw bad('checkpoint must be a signed note string');
  return { from: size(o.from, 'from'), to: size(o.to, 'to'), hashes: hashes(o.hashes), ...(cp ? { checkpoint: cp } : {}) };
}
