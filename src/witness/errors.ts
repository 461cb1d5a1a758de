import { HallmarkError } from '../../ledger/index.js';

export type WitnessErrorCode =
  | 'WITNESS_BAD_KEY' // a witness or log key string we cannot use
  | 'WITNESS_BAD_POLICY' // a tlog-policy file that breaks the spec's rules
  | 'WITNESS_BAD_COSIGNATURE' // a cosignature line that does not parse or verify
  | 'WITNESS_QUORUM_NOT_MET' // fewer cosignatures than the policy's quorum: nothing published
  | 'WITNESS_BAD_STATE' // a witness state file that is not ours
  | 'WITNESS_BAD_PROOF'; // a tlog-proof file that does not parse or verify

export class WitnessError extends HallmarkError<WitnessErrorCode> {}
