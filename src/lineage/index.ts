export { LineageError, type LineageErrorCode } from './errors.js';
export {
  datasetIdFor, isDatasetId, isModelId, makeDescriptor, modelIdFor, parseDatasetId, parseModelId,
  type DatasetId, type ModelId, type ResourceDescriptor,
} from './descriptor.js';
export {
  BUILD_TYPE, DATASET_SCHEMA, DEFAULT_BUILDER_ID, DERIVED_SCHEMA, MODEL_SCHEMA, SLSA_PROVENANCE_V1, STATEMENT_TYPE,
  buildDatasetRecord, buildDerivationRecord, buildModelRecord, digestParameters, readDatasetRecord, readDerivationRecord, readModelRecord,
  type DatasetRecord, type DerivationRecord, type ModelRecord,
} from './records.js';
export {
  DATASET_REGISTERED, LINEAGE_DERIVED, MODEL_REGISTERED, findDataset, findModel, recordDerivation, registerDataset, registerModel, scanEntries,
  type DerivationOptions, type Found, type RecordDerivationInput, type RegisterDatasetInput, type RegisterModelInput, type RegisterModelResult, type Registered,
} from './register.js';
export { formatLineage, lineageOf, MAX_DEPTH, MAX_NODES, type DatasetNode, type DerivationNode, type LineageNode } from './lineage-tree.js';
export { identifyDataset, identifyModel, type DatasetInfo, type ModelInfo } from './identify.js';
