// `verify-signature --log`: the transparency half of a key-based OMS signature. The bundle's
// model.signed entry must be in the ledger, signed by the home's owner key, name the same subject
// digest, and be included (RFC 9162 inclusion proof) in a checkpoint signed by the log's key.
// Entries that claim the bundle without the owner's signature are reported and never trusted.
import { createHash } from 'node:crypto';
import { hashLeaf, newVerifier, openCheckpoint, verifyInclusion, type Ledger } from '../../ledger/index.js';
import { formatProblem, type RecordProblem, type TrustedKeys } from '../records/index.js';
import { verifyFailed } from './errors.js';
import { findModelSigned } from './record-model-signed.js';

export interface LogCheck {
  readonly index: number;
  readonly checkpointSize: number;
  readonly origin: string;
  /** Who signed the entry (the owner's verifier key). */
  readonly signer: string;
  /** Entries that claim this bundle but are not the owner's: reported, not trusted. */
  readonly untrusted: readonly RecordProblem[];
}

export const bundleDigest = (bundle: Uint8Array) => createHash('sha256').update(bundle).digest('hex');

export function checkSignatureLogged(ledger: Ledger, bundle: Uint8Array, subjectDigest: string, trust: TrustedKeys, logVerifierKey: string = ledger.verifierKey): LogCheck {
  const digest = bundleDigest(bundle);
  const { trusted, untrusted } = findModelSigned(ledger, digest, trust);
  if (trusted.length === 0) {
    if (untrusted.length > 0) throw verifyFailed(`no model.signed entry signed by this home's owner names this bundle (sha256 ${digest}); not trusted: ${untrusted.map(formatProblem).join('; ')}`);
    throw verifyFailed(`no model.signed entry for this bundle (sha256 ${digest}) in the ledger`);
  }
  const found = trusted[0]!;
  if (found.record.subject.digest.sha256 !== subjectDigest) throw verifyFailed(`ledger entry ${found.index} names subject ${found.record.subject.digest.sha256}, the bundle ${subjectDigest}`);
  const stored = ledger.checkpointCovering(found.index);
  if (!stored) throw verifyFailed(`no signed checkpoint covers ledger entry ${found.index} yet; run "hallmark ledger checkpoint"`);
  const cp = openCheckpoint(stored.note, newVerifier(logVerifierKey));
  const entry = ledger.get(found.index);
  const proof = ledger.inclusionProof(found.index, cp.size);
  verifyInclusion(found.index, cp.size, hashLeaf(entry.bytes), proof.hashes, cp.root);
  return { index: found.index, checkpointSize: cp.size, origin: cp.origin, signer: found.signer!.key, untrusted };
}
