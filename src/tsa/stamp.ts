// Stamping the log: sign a checkpoint of the current tree, obtain an RFC 3161 token over the
// exact bytes of that signed note, verify it, and store both in the home folder.
import type * as pkijs from 'pkijs';
import type { Ledger } from '../../ledger/index.js';
import { requestTimestamp } from './client.js';
import { saveTimestamp } from './store.js';
import type { TimestampInfo } from './verify-token.js';

export interface StampResult {
  readonly size: number;
  readonly checkpoint: string;
  readonly info: TimestampInfo;
  readonly files: { token: string; response: string; checkpoint: string };
}

export async function stampCheckpoint(ledger: Ledger, homeDir: string, url: string, options: { caCerts?: readonly pkijs.Certificate[]; timeoutMs?: number } = {}): Promise<StampResult> {
  const cp = ledger.checkpoint();
  const { token, response, info } = await requestTimestamp(url, new TextEncoder().encode(cp.note), options);
  const files = saveTimestamp(homeDir, { size: cp.size, checkpoint: cp.note, token, response });
  return { size: cp.size, checkpoint: cp.note, info, files };
}
