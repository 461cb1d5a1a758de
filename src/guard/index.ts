// The guard: an inference gateway that watermarks answers per client and watches for extraction.
//   startGuard              the gateway over a home folder (server.ts)
//   createGuardApp          Hono routes: OIP v2, TF Serving REST, /metrics (app.ts)
//   GuardService            budget -> model -> keyed marks -> monitor (guard-service.ts)
//   decideMark, quantiseInput   DAWN-style response watermark (watermark.ts)
//   ExtractionMonitor       PRADA-style monitor, Shapiro-Wilk on min distances (monitor.ts)
//   threadedMonitor         the monitor on a worker thread, off the request path (query-monitor.ts)
//   readJournal, MarkJournal    the encrypted watermark sets (mark-journal.ts)
//   pendingCommitments, appendGuardCommitments   guard.committed (commitments.ts)
//   verifyGuardMarks        query a suspect with a client's set (verify-guard.ts)
export { GuardError, type GuardErrorCode } from './errors.js';
export { createGuardApp, DEFAULT_GUARD_LIMITS, type GuardAppOptions, type GuardLimits } from './app.js';
export { GuardService, type GuardLog, type GuardServiceOptions } from './guard-service.js';
export { startGuard, stderrLog, type GuardOptions, type RunningGuard } from './server.js';
export { alterScores, argmax, decideMark, deriveClientKey, quantiseInput, DEFAULT_MARK_RATE, type MarkDecision } from './watermark.js';
export { inlineMonitor, threadedMonitor, type MonitorSink, type QueryMonitor, type ThreadedMonitorOptions } from './query-monitor.js';
export { ExtractionMonitor, MONITOR_DEFAULTS, MONITOR_MAX_FEATURES, monitorFeatureBatchInto, monitorFeatures, monitorFeatureSize, type MonitorOptions, type Suspicion } from './monitor.js';
export { journalPath, markLeafBytes, MarkJournal, readJournal, type Mark } from './mark-journal.js';
export { appendGuardCommitments, guardCommitmentEntries, merkleRoot, pendingCommitments, readCommitments, setRoot, GUARD_ACTOR, type TrustedCommitment } from './commitments.js';
export { appendExtractionSuspected, extractionSuspectedEntry } from './monitor-record.js';
export { openGuardKeys, deriveGuardKeys, GUARD_SECRET_ID, type GuardKeys } from './guard-key.js';
export { deriveGuardSigner, enrolGuardSigner, GUARD_SIGNER_NAME } from './guard-signer.js';
export { directLedgerWriter, workerLedgerWriter, type LedgerWriter } from './ledger-writer.js';
export { AUTO_WORKER_MS, openLocalRunner, openOnnxRunner, openTfjsRunner, type ModelPlacement, type ModelRunner } from './model-runner.js';
export { openOnnxThreadRunner } from './onnx-thread-runner.js';
export { openUpstreamRunner, type UpstreamOptions } from './upstream-runner.js';
export { GuardMetrics } from './metrics.js';
export { RateLimiter, type RateLimitOptions } from './rate-limit.js';
export * as guardCommitted from './record-guard-committed.js';
export * as extractionSuspected from './record-extraction-suspected.js';
export { loadCommittedSets, marksAsImages, type CommittedSet } from './committed-sets.js';
export { findGuardCalibration, guardChance, verifyGuardMarks, type GuardMarkResult, type GuardNull, type GuardVerification } from './verify-guard.js';
export { appendGuardCalibration, measureGuardNull, type GuardCalibrationOptions } from './calibrate-guard.js';
export * as guardCalibrated from './record-guard-calibrated.js';
export { appendGuardVerification, guardVerificationPayload, type GuardSuspect } from './record-guard-verification.js';
