// The job kinds this server knows: a name and the module a worker runs. The modules are named
// by URL, not imported, so the server does not load TensorFlow.js or onnxruntime until a job
// needs them (and then only in its worker thread).
import type { JobKind } from '../jobs.js';
import { LEDGER_AUDIT } from './ledger-audit.js';

const kind = (name: string, file: string): JobKind => ({ kind: name, module: new URL(file, import.meta.url) });

export const EVIDENCE_EXPORT = kind('evidence.export', './evidence-export.js');
export const EMBED = kind('embed', './embed.js');
export const VERIFY = kind('verify', './verify.js');
export const CALIBRATE = kind('calibrate', './calibrate.js');
export const FINGERPRINT = kind('fingerprint', './fingerprint.js');

export const JOB_KINDS: readonly JobKind[] = [LEDGER_AUDIT, EVIDENCE_EXPORT, EMBED, VERIFY, CALIBRATE, FINGERPRINT];
