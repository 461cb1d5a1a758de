// `verify-signature --log`: the transparency half of a key-based OMS signature. The bundle's
// model.signed entry must be in the ledger, name the same subject digest, and be included (RFC 9162
// inclusion proof) in a checkpoint signed by the log's key.
import { createHash } from 'node:crypto';
import { hashLeaf, newVerifier, openCheckpoint, verifyInclusion, type Ledger } from '../../ledger/index.js';
import { verifyFailed } from './errors.js';
import { findModelSigned } from './record-model-signed.js';

export interface LogCheck {
  readonly index: number;
  readonly checkpointSize: number;
  readonly origin: string;
}

export const bundleDigest = (bundle: Uint8Array) => createHash('sha256').update(bundle).digest('hex');

export function checkSignatureLogged(ledger: Ledger, bundle: Uint8Array, subjectDigest: string, logVerifierKey: string = ledger.verifierKey): LogCheck {
  const digest = bundleDigest(bundle);
  const found = findModelSigned(ledger, digest);
  if (found.length === 0) throw verifyFailed(`no model.signed entry for this bundle (sha256 ${digest}) in the ledger`);
  const { entry, record } = found[0]!;
  if (record.subject.digest.sha256 !== subjectDigest) throw verifyFailed(`ledger entry ${entry.index} names subject ${record.subject.digest.sha256}, the bundle ${subjectDigest}`);
  const stored = ledger.checkpointCovering(entry.index);
  if (!stored) throw verifyFailed(`no signed checkpoint covers ledger entry ${entry.index} yet; run "hallmark ledger checkpoint"`);
  const cp = openCheckpoint(stored.note, newVerifier(logVerifierKey));
  const proof = ledger.inclusionProof(entry.index, cp.size);
  verifyInclusion(entry.index, cp.size, hashLeaf(entry.bytes), proof.hashes, cp.root);
  return { index: entry.index, checkpointSize: cp.size, origin: cp.origin };
}
