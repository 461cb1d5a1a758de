// Job kind `calibrate`: the worker entry for verify.ts's calibrate (one module per kind, since
// the worker calls the module's `run`).
import type { JsonObject } from '../../../ledger/index.js';
import type { JobContext } from '../jobs.js';
import { calibrate } from './verify.js';

export function run(params: JsonObject, ctx: JobContext): Promise<JsonObject> {
  return calibrate(params, ctx);
}
