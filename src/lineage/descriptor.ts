// Resource descriptors and content-addressed ids live in src/records (every record names them);
// the parsers of ids a user types stay here, with lineage's error codes.
import { DATASET_ID, MODEL_ID, type DatasetId, type ModelId } from '../records/resource.js';
import { LineageError } from './errors.js';

export * from '../records/resource.js';

/** Parses a user-supplied model id; the message says what a model id looks like. */
export function parseModelId(s: string): ModelId {
  if (!MODEL_ID.test(s)) throw new LineageError('LINEAGE_INVALID', `"${s.slice(0, 100)}" is not a model id; model ids look like model:sha256:<64 hex digits> (see "hallmark model register")`);
  return s as ModelId;
}

export function parseDatasetId(s: string): DatasetId {
  if (!DATASET_ID.test(s)) throw new LineageError('LINEAGE_INVALID', `"${s.slice(0, 100)}" is not a dataset id; dataset ids look like dataset:sha256:<64 hex digits> (see "hallmark dataset register")`);
  return s as DatasetId;
}
