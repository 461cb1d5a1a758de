// `lineage.derived` (writer: open): schema and strict reader in ../lineage-schemas.ts, shared with the builders.
import type { RecordType } from '../record-type.js';
import { readDerivationRecord, DERIVED_SCHEMA, type DerivationRecord } from '../lineage-schemas.js';

export const LINEAGE_DERIVED = 'lineage.derived';

export const lineageDerived: RecordType<DerivationRecord> = { type: LINEAGE_DERIVED, schema: DERIVED_SCHEMA, writer: 'open', decode: (p) => readDerivationRecord(p) };
