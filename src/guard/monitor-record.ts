// THE writer of extraction.suspected (src/records/types/extraction-suspected.ts has the schema),
// signed by the guard's service key (guard-signer.ts).
import type { EntryInput, JsonObject, Ledger } from '../../ledger/index.js';
import { recordEntry, type RecordSigner } from '../records/index.js';
import { GUARD_ACTOR } from './commitments.js';
import { extractionSuspected } from './record-extraction-suspected.js';

export function extractionSuspectedEntry(payload: JsonObject, signer: RecordSigner, actor = GUARD_ACTOR): EntryInput {
  return recordEntry(extractionSuspected, payload, actor, signer);
}

export function appendExtractionSuspected(ledger: Ledger, payload: JsonObject, signer: RecordSigner, actor = GUARD_ACTOR): number {
  return ledger.append(extractionSuspectedEntry(payload, signer, actor)).index;
}
