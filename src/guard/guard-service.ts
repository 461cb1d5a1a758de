// The guard's pipeline for one client request, independent of the wire protocol:
//   budget (rate-limit.ts) -> blocked? -> model -> per input: keyed mark decision
//   (watermark.ts; a new mark is fsynced to the journal before the answer leaves), turned down
//   when it would take the client's altered answers past the cap (--max-altered) ->
//   altered scores out; the request's inputs and answers go to the extraction monitor
//   (query-monitor.ts: on a worker thread in the guard; a suspicion acts from the next request).
// Commitments are flushed on a schedule through the ledger writer (ledger-writer.ts).
import { sha256 } from '@noble/hashes/sha2.js';
import type { JsonObject } from '../../ledger/index.js';
import { toHex } from '../../ledger/index.js';
import { pendingCommitments } from './commitments.js';
import { GuardError } from './errors.js';
import type { LedgerWriter } from './ledger-writer.js';
import { newSalt, type Mark, type MarkJournal } from './mark-journal.js';
import type { GuardMetrics } from './metrics.js';
import type { ModelRunner } from './model-runner.js';
import { monitorFeatureBatchInto, monitorFeatureSize, type Suspicion } from './monitor.js';
import type { QueryMonitor } from './query-monitor.js';
import type { RateLimiter } from './rate-limit.js';
import { SCHEMA as SUSPECTED_SCHEMA, type SuspectAction } from './record-extraction-suspected.js';
import { alterScores, argmax, decideMark, deriveClientKey, DEFAULT_MARK_RATE, quantiseInput } from './watermark.js';

/** Feature buffers kept for reuse (requests in flight beyond this allocate their own). */
const SPARE_FEATURES = 64;

export type GuardLog = (level: 'info' | 'warn' | 'alert' | 'error', event: string, fields?: Record<string, string | number | boolean>) => void;

export interface GuardServiceOptions {
  readonly runner: ModelRunner;
  readonly watermarkKey: Uint8Array;
  readonly journal: MarkJournal;
  /** Marks already in the journal, per client (from readJournal). */
  readonly marks: Map<string, Mark[]>;
  /** Set size of each client's latest guard.committed (from the ledger). */
  readonly committed: Map<string, number>;
  readonly writer: LedgerWriter;
  readonly monitor: QueryMonitor;
  readonly limiter: RateLimiter;
  readonly metrics: GuardMetrics;
  readonly log: GuardLog;
  readonly markRate?: number;
  /**
   * Cap on the fraction of a client's answers that are altered (default: the mark rate). A new
   * mark is given only while altered answers, this one included, stay within cap x answers
   * since the guard started; a selection past the cap is declined, journalled, and answered
   * truthfully for good. So no client, however unlucky its inputs, sees more than the cap.
   */
  readonly maxAltered?: number;
  /** Selections declined earlier, per client (from readJournal). */
  readonly declined?: Map<string, Set<string>>;
  readonly onSuspect?: SuspectAction;
  readonly clock?: () => Date;
}

export class GuardService {
  private readonly clientKeys = new Map<string, Uint8Array>();
  private readonly seen = new Map<string, Set<string>>();
  private readonly declined: Map<string, Set<string>>;
  /** Per client since start: inputs answered and answers altered (repeats of marks included). */
  private readonly tally = new Map<string, { answered: number; altered: number }>();
  private readonly blocked = new Set<string>();
  private flushing: Promise<void> | undefined;
  /** extraction.suspected appends in flight. */
  private readonly recording = new Set<Promise<void>>();
  readonly dims: readonly number[];
  readonly size: number;
  private readonly featureSize: number;
  /**
   * One input's feature buffers, reused across requests: a fresh Float32Array of this size has
   * its own backing store (about 1 us, and work for the GC). One is taken per request in flight.
   */
  private readonly spareFeatures: Float32Array[] = [];

  constructor(private readonly o: GuardServiceOptions) {
    this.dims = o.runner.dims;
    this.size = this.dims.reduce((a, b) => a * b, 1);
    this.featureSize = monitorFeatureSize(this.dims);
    this.declined = o.declined ?? new Map();
    for (const [client, list] of o.marks) {
      const s = new Set<string>();
      for (const m of list) s.add(this.qid(quantiseInput(m.input, m.dims)));
      this.seen.set(client, s);
    }
    o.monitor.listen({
      suspicion: (s) => this.suspect(s),
      stats: (client, st) => this.o.metrics.monitor(client, st.lastW, st.ratePerMinute, st.suspected),
    });
  }

  /** Resolves once the monitor has tested every query answered so far. */
  monitorIdle(): Promise<void> {
    return this.o.monitor.idle();
  }

  /** Resolves once every query answered so far is tested and every alert it raised is recorded (or failed and logged). */
  async settle(): Promise<void> {
    await Promise.race([this.o.monitor.idle(), new Promise((r) => setTimeout(r, 2000).unref())]); // a stuck worker must not hold a shutdown
    await Promise.all([...this.recording]);
  }

  get runner(): ModelRunner {
    return this.o.runner;
  }

  private qid(q: Uint8Array): string {
    return toHex(sha256(q));
  }

  private clientKey(client: string): Uint8Array {
    let k = this.clientKeys.get(client);
    if (!k) {
      k = deriveClientKey(this.o.watermarkKey, client);
      this.clientKeys.set(client, k);
    }
    return k;
  }

  isBlocked(client: string): boolean {
    return this.blocked.has(client);
  }

  /** Answers n inputs (flat float32, already validated against dims) for a client: [n, classes] scores. */
  async answer(client: string, x: Float32Array, n: number): Promise<Float32Array> {
    if (this.blocked.has(client)) throw new GuardError('GUARD_FORBIDDEN', 'this key is blocked: its queries looked like a model extraction attack; contact the model owner');
    this.o.limiter.take(client, n);
    // The model starts first; the keyed quantiser and the monitor's features need only the
    // inputs, so they are computed meanwhile (in parallel when the model runs on a worker thread
    // or an upstream server).
    const running = this.o.runner.run(x, n);
    running.catch(() => undefined); // awaited below; a rejection while quantising is not "unhandled"
    const quantised: Uint8Array[] = [];
    for (let i = 0; i < n; i++) quantised.push(quantiseInput(x.subarray(i * this.size, (i + 1) * this.size), this.dims));
    const feats = (n === 1 ? this.spareFeatures.pop() : undefined) ?? new Float32Array(n * this.featureSize);
    monitorFeatureBatchInto(x, this.dims, n, feats, 0);
    const scores = await running;
    const classes = scores.length / n;
    if (!Number.isInteger(classes) || classes < 2) throw new GuardError('GUARD_UPSTREAM', 'the model did not answer [n, classes] scores');
    const out = new Float32Array(scores.length);
    const rate = this.o.markRate;
    const key = this.clientKey(client);
    const tally = this.tallyOf(client);
    const predicted = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const xi = x.subarray(i * this.size, (i + 1) * this.size);
      const row = scores.subarray(i * classes, (i + 1) * classes);
      const y = argmax(row);
      predicted[i] = y;
      const q = quantised[i]!;
      const d = decideMark(key, q, y, classes, rate);
      tally.answered++;
      if (d.selected && this.grant(client, q, xi, y, d.label!, classes, tally)) {
        tally.altered++;
        out.set(alterScores(row, y, d.label!), i * classes);
      } else out.set(row, i * classes);
    }
    this.o.metrics.query(client, n);
    const behind = this.o.monitor.observe(client, x, this.dims, n, predicted, feats);
    if (n === 1 && this.spareFeatures.length < SPARE_FEATURES) this.spareFeatures.push(feats); // observe() copied what it keeps
    if (behind) await behind;
    return out;
  }

  private tallyOf(client: string): { answered: number; altered: number } {
    let t = this.tally.get(client);
    if (!t) {
      t = { answered: 0, altered: 0 };
      this.tally.set(client, t);
    }
    return t;
  }

  /**
   * Whether a selected input is answered with its watermark label: yes for a mark given before
   * (the same answer again), no for one declined before, and for a new one only within the cap
   * (then it is journalled as a mark; past the cap, as declined).
   */
  private grant(client: string, q: Uint8Array, xi: Float32Array, answer: number, label: number, classes: number, tally: { answered: number; altered: number }): boolean {
    const id = this.qid(q);
    let s = this.seen.get(client);
    if (!s) {
      s = new Set();
      this.seen.set(client, s);
    }
    if (s.has(id)) return true; // the same (quantised) input again: same answer, not a new mark
    const declined = this.declined.get(client);
    if (declined?.has(id)) return false;
    const cap = this.o.maxAltered ?? this.o.markRate ?? DEFAULT_MARK_RATE;
    if (tally.altered + 1 > cap * tally.answered) {
      this.o.journal.appendDeclined({ client, qid: id }); // on disk before the true answer leaves
      this.declined.set(client, (declined ?? new Set()).add(id));
      return false;
    }
    this.remember(client, s, id, xi, answer, label, classes);
    return true;
  }

  private remember(client: string, s: Set<string>, id: string, xi: Float32Array, answer: number, label: number, classes: number): void {
    const list = this.o.marks.get(client) ?? [];
    const m: Mark = { client, seq: list.length, time: (this.o.clock?.() ?? new Date()).toISOString(), salt: newSalt(), dims: [...this.dims], input: Float32Array.from(xi), label, answer, classes };
    this.o.journal.append(m); // on disk before the answer leaves
    list.push(m);
    this.o.marks.set(client, list);
    s.add(id);
  }

  private suspect(s: Suspicion): void {
    const action = this.o.onSuspect ?? 'alert';
    if (action === 'block') this.blocked.add(s.client);
    if (action === 'throttle') this.o.limiter.throttle(s.client);
    this.o.log('alert', 'extraction.suspected', { client: s.client, queries: s.queries, reason: s.reason, w: Number(s.w.toFixed(4)), threshold: s.threshold, action });
    const payload: JsonObject = {
      schema: SUSPECTED_SCHEMA, client: s.client, queries: s.queries,
      test: { name: 'shapiro-wilk', n: s.n, w: s.w, threshold: s.threshold }, rate: s.ratePerMinute, action,
    };
    const written = this.o.writer.suspect(payload).then(
      (index) => this.o.log('info', 'extraction.suspected recorded', { client: s.client, index }),
      (err: Error) => {
        this.o.metrics.ledgerError();
        this.o.log('error', 'ledger append failed', { what: 'extraction.suspected', client: s.client, message: err.message.slice(0, 200) });
      },
    );
    this.recording.add(written);
    void written.finally(() => this.recording.delete(written));
  }

  /** Appends a commitment for every client whose set grew; failures stay pending. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const payloads = pendingCommitments(this.o.marks, this.o.committed, this.o.clock?.() ?? new Date());
    if (payloads.length === 0) return;
    try {
      const indices = await this.o.writer.commit(payloads);
      payloads.forEach((p) => this.o.committed.set(p.client as string, p.count as number));
      this.o.metrics.committed(indices.length);
      this.o.log('info', 'guard.committed', { clients: payloads.length, first: indices[0]!, last: indices[indices.length - 1]! });
    } catch (err) {
      this.o.metrics.ledgerError();
      this.o.log('warn', 'commitment deferred: ledger append failed; will retry', { clients: payloads.length, message: (err as Error).message.slice(0, 200) });
    }
  }
}
