// Witnessing in bundles (issue 15): the log's published checkpoint with the witnesses'
// cosignatures, the tlog-policy they satisfy, and a consistency proof from that checkpoint to the
// bundle's own, so a verifier knows the bundle's tree extends one the witnesses saw: every entry
// below the witnessed size was in a tree no one could fork unseen.
import { fromBase64, parseCheckpoint, toBase64, verifyConsistency, type Ledger } from '../../ledger/index.js';
import { isHallmarkError } from '../../ledger/index.js';
import { parsePolicy, verifyCheckpointPolicy } from '../witness/index.js';
import { failed, malformed } from './errors.js';
import type { VerifiedCheckpoint } from './log-proofs.js';
import { arr, obj, str } from './strict-json.js';

export interface WitnessedJson {
  policy: string;
  checkpoint: string;
  consistency: string[];
}

export interface VerifiedWitnessing {
  readonly size: number;
  readonly witnesses: readonly { readonly witness: string; readonly timestamp: number }[];
  /** True when the policy was given by the verifier rather than taken from the bundle. */
  readonly policyPinned: boolean;
}

/** The witnessed part of a bundle whose checkpoint has size `cpSize`; undefined when none applies. */
export function buildWitnessed(ledger: Ledger, w: { policy: string; published: string } | undefined, cpSize: number): WitnessedJson | undefined {
  if (!w) return undefined;
  const size = parseCheckpoint(w.published.slice(0, w.published.indexOf('\n\n') + 1)).size;
  if (size > cpSize || size === 0) return undefined;
  const consistency = size < cpSize ? ledger.consistencyProof(size, cpSize).hashes.map(toBase64) : [];
  return { policy: w.policy, checkpoint: w.published, consistency };
}

export function verifyWitnessed(v: unknown, cp: VerifiedCheckpoint, logKey: string, pinnedPolicy?: string): VerifiedWitnessing {
  const o = obj(v, 'witnessed', ['policy', 'checkpoint', 'consistency']);
  const policyText = pinnedPolicy ?? str(o.policy, 'witnessed.policy', 1 << 20);
  try {
    const policy = parsePolicy(policyText);
    if (!policy.logs.some((l) => l.vkey === logKey)) throw failed('the witnessing policy does not name this log\'s key');
    const check = verifyCheckpointPolicy(str(o.checkpoint, 'witnessed.checkpoint', 1 << 20), policy, cp.origin);
    const proof = arr(o.consistency, 'witnessed.consistency', 64).map((h, i) => {
      const b = typeof h === 'string' ? fromBase64(h) : undefined;
      if (!b || b.length !== 32) throw malformed(`witnessed.consistency[${i}] is not a base64 hash`);
      return b;
    });
    const w = check.checkpoint;
    if (w.size > cp.size) throw failed(`the witnessed checkpoint (size ${w.size}) is beyond the bundle's (size ${cp.size})`);
    verifyConsistency(w.size, cp.size, proof, w.root, cp.root);
    return { size: w.size, witnesses: check.cosigners, policyPinned: pinnedPolicy !== undefined };
  } catch (err) {
    if (isHallmarkError(err) && !err.code.startsWith('EVIDENCE_')) throw failed(`witnessing: ${err.message}`, err);
    throw err;
  }
}
