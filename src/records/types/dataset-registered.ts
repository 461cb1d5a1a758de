// `dataset.registered` (writer: open): schema and strict reader in ../lineage-schemas.ts, shared with the builders.
import type { RecordType } from '../record-type.js';
import { readDatasetRecord, DATASET_SCHEMA, type DatasetRecord } from '../lineage-schemas.js';

export const DATASET_REGISTERED = 'dataset.registered';

export const datasetRegistered: RecordType<DatasetRecord> = { type: DATASET_REGISTERED, schema: DATASET_SCHEMA, writer: 'open', decode: (p) => readDatasetRecord(p) };
