// extraction.suspected: the schema lives in src/records/types/extraction-suspected.ts (writer: service).
export {
  EXTRACTION_SUSPECTED as TYPE, EXTRACTION_SUSPECTED_SCHEMA as SCHEMA, SUSPECT_ACTIONS as ACTIONS, extractionSuspected,
  readExtractionSuspected as decodeExtractionSuspected, type ExtractionSuspectedRecord as ExtractionSuspected, type SuspectAction,
} from '../records/index.js';
