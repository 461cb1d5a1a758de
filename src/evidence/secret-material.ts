// The secret an evidence bundle reveals: the commitment opening of src/core/commitment.ts, whose
// root is the owner's Ed25519 signature over the model id. From the root every watermark value
// (projection, trigger set, bits) is re-derived, and only the owner's key could have made it.
import { decodeOpening, openCommitment, verifyWatermarkRoot, type CommitmentOpening } from '../core/index.js';
import { isHallmarkError, toHex } from '../../ledger/index.js';
import type { CommittedRecord } from '../records/index.js';
import { failed } from './errors.js';

/**
 * Parses a revealed opening and checks it against a watermark.committed record and the owner's
 * public key: it hashes to the committed digest, it names the committed scheme and parameters,
 * and its root is the owner's signature over the committed model id.
 */
export function readRevealedOpening(v: unknown, committed: CommittedRecord, ownerPublicKey: Uint8Array, where = 'commitment opening'): CommitmentOpening {
  let opening: CommitmentOpening;
  try {
    opening = decodeOpening(v);
    openCommitment({ type: 'hallmark.watermark-commitment', version: 1, digest: committed.commitment }, opening);
    verifyWatermarkRoot(opening.root);
  } catch (err) {
    if (isHallmarkError(err)) throw failed(`${where}: ${err.message}`, err);
    throw err;
  }
  if (toHex(opening.root.ownerPublicKey) !== toHex(ownerPublicKey)) throw failed(`${where}: the revealed secret belongs to another owner key`);
  if (opening.root.modelId !== committed.model) throw failed(`${where}: the revealed secret is for ${opening.root.modelId.slice(0, 100)}, the commitment for ${committed.model}`);
  if (opening.scheme !== committed.scheme) throw failed(`${where}: scheme "${opening.scheme.slice(0, 40)}" is not the committed "${committed.scheme}"`);
  return opening;
}
