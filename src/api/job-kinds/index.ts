// The job kinds this server knows. A later kind (embed, verify, calibrate) is a file beside
// this one and a line here.
import type { JobKind } from '../jobs.js';
import { EVIDENCE_EXPORT } from './evidence-export.js';
import { LEDGER_AUDIT } from './ledger-audit.js';

export const JOB_KINDS: readonly JobKind[] = [LEDGER_AUDIT, EVIDENCE_EXPORT];
