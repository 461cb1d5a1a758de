// `model.registered` (writer: open): schema and strict reader in ../lineage-schemas.ts, shared with the builders.
import type { RecordType } from '../record-type.js';
import { readModelRecord, MODEL_SCHEMA, type ModelRecord } from '../lineage-schemas.js';

export const MODEL_REGISTERED = 'model.registered';

export const modelRegistered: RecordType<ModelRecord> = { type: MODEL_REGISTERED, schema: MODEL_SCHEMA, writer: 'open', decode: (p) => readModelRecord(p) };
