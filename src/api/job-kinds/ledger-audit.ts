// Job kind `ledger.audit`: re-verifies every entry, tree node, chain link and checkpoint of the
// home's ledger (SQLite file or PostgreSQL), in a worker thread with its own connection to the same database.
import type { JsonObject } from '../../../ledger/index.js';
import { openHomeLedger } from '../../home/index.js';
import type { JobContext, JobKind } from '../jobs.js';

export const LEDGER_AUDIT: JobKind = { kind: 'ledger.audit', module: new URL(import.meta.url) };

export async function run(_params: JsonObject, ctx: JobContext): Promise<JsonObject> {
  const ledger = openHomeLedger(ctx.homeDir);
  try {
    ctx.progress({ phase: 'auditing', size: ledger.size() });
    const r = await ledger.audit();
    return r as unknown as JsonObject;
  } finally {
    ledger.close();
  }
}
