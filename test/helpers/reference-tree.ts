// A naive RFC 9162 §2.1 reference: MTH, PATH and PROOF written straight from the RFC's
// recursive definitions, recomputing everything from the leaves. Slow and obviously right.
import { createHash } from 'node:crypto';

const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export const refLeaf = (d: Uint8Array) => sha(Uint8Array.of(0), d);
const refNode = (l: Uint8Array, r: Uint8Array) => sha(Uint8Array.of(1), l, r);

/** Largest power of two smaller than n (n > 1). */
const split = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};

export function refMth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return refLeaf(leaves[0]!);
  const k = split(leaves.length);
  return refNode(refMth(leaves.slice(0, k)), refMth(leaves.slice(k)));
}

export function refPath(m: number, leaves: Uint8Array[]): Uint8Array[] {
  const n = leaves.length;
  if (n <= 1) return [];
  const k = split(n);
  if (m < k) return [...refPath(m, leaves.slice(0, k)), refMth(leaves.slice(k))];
  return [...refPath(m - k, leaves.slice(k)), refMth(leaves.slice(0, k))];
}

function subproof(m: number, leaves: Uint8Array[], b: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return b ? [] : [refMth(leaves)];
  const k = split(n);
  if (m <= k) return [...subproof(m, leaves.slice(0, k), b), refMth(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), refMth(leaves.slice(0, k))];
}

export function refProof(m: number, leaves: Uint8Array[]): Uint8Array[] {
  return m === 0 || m === leaves.length ? [] : subproof(m, leaves, true);
}
