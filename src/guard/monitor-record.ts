// THE writer of extraction.suspected (record-extraction-suspected.ts has the schema).
import type { JsonObject, Ledger } from '../../ledger/index.js';
import { decodeExtractionSuspected, TYPE } from './record-extraction-suspected.js';

export function appendExtractionSuspected(ledger: Ledger, payload: JsonObject, actor = 'hallmark-guard'): number {
  decodeExtractionSuspected(payload);
  return ledger.append({ type: TYPE, actor, payload }).index;
}
