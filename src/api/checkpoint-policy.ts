// When the server signs checkpoints. A signature is a write (a row in ledger.db, an fsync) made
// with the log's key, so no anonymous read may cause one: reads serve the checkpoints already
// stored. The server signs on its own schedule instead: at start, every `intervalMs` if the log
// grew (jobs append from worker threads), after each successful write through the API, and when
// a job finishes. A client that appended through the API therefore finds its entry covered by
// the next read; one that appended otherwise waits at most one interval.
import type { Ledger, SignedCheckpoint } from '../../ledger/index.js';
import type { Logger } from './errors.js';

export interface CheckpointPolicyOptions {
  /** Sign every this many ms when the log has grown (default 30 s; 0 = no timer). */
  readonly intervalMs?: number;
  /** Sign right after each successful write through the API (default true). */
  readonly afterWrites?: boolean;
  readonly log?: Logger;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 30_000;

export interface CheckpointPolicy {
  readonly intervalMs: number;
  readonly afterWrites: boolean;
  /** Signs and stores a checkpoint if the log grew since the last one; returns the newest. */
  signIfGrown(): SignedCheckpoint | undefined;
  /** signIfGrown once for every caller waiting in this turn of the event loop (concurrent writes share a signature). */
  signSoon(): Promise<void>;
  /** The newest stored checkpoint (never signs). */
  latest(): SignedCheckpoint | undefined;
  close(): void;
}

export function startCheckpointPolicy(ledger: Ledger, options: CheckpointPolicyOptions = {}): CheckpointPolicy {
  const intervalMs = options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 0) throw new RangeError(`checkpoint interval must be a non-negative integer of ms, got ${intervalMs}`);
  const signIfGrown = (): SignedCheckpoint | undefined => {
    const latest = ledger.latestCheckpoint();
    if (latest && latest.size >= ledger.size()) return latest;
    return ledger.checkpoint();
  };
  const timer = intervalMs > 0
    ? setInterval(() => {
      try {
        signIfGrown();
      } catch (err) {
        options.log?.(`checkpoint: ${(err as Error).message.split('\n')[0]}`);
      }
    }, intervalMs)
    : undefined;
  timer?.unref();
  signIfGrown();
  let pending: Promise<void> | undefined;
  const signSoon = (): Promise<void> => {
    pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        pending = undefined;
        try {
          signIfGrown();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
    return pending;
  };
  return {
    intervalMs,
    afterWrites: options.afterWrites ?? true,
    signIfGrown,
    signSoon,
    latest: () => ledger.latestCheckpoint(),
    close: () => { if (timer) clearInterval(timer); },
  };
}
