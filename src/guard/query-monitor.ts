// Where the extraction monitor runs. PRADA's per-query work is a nearest-neighbour scan over the
// client's earlier queries of the same class (up to 1,000 per class): for a client that never
// repeats itself it costs more than the model. So the guard runs it off the request path:
//
//   inlineMonitor    the monitor on the calling thread; a suspicion is raised before the answer
//                    leaves (tests, one-shot tools);
//   threadedMonitor  (the guard's default) the request thread reduces each input to its monitor
//                    features (2x2 block means, a few microseconds) and hands them, batched, to a
//                    worker thread that keeps the clients' state and runs the tests. A suspicion
//                    comes back a few milliseconds later and takes effect from the client's next
//                    request. The worker may fall behind by at most `maxLag` queries: past that,
//                    answers wait for it (every client's, while it is behind), so overload shows
//                    as latency instead of untested queries or a queue without bound; the
//                    per-client rate limit keeps one key from causing it alone.
//
// If the worker dies, monitoring continues on the request thread with fresh state, and the guard
// logs it as an error (the clients' distance histories are lost: they start again from zero).
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../api/spawn-worker.js';
import { ExtractionMonitor, monitorFeatureBatchInto, monitorFeatureSize, type ClientStats, type MonitorOptions, type Suspicion } from './monitor.js';

export interface MonitorSink {
  suspicion(s: Suspicion): void;
  stats(client: string, st: ClientStats): void;
}

const NO_SINK: MonitorSink = { suspicion: () => undefined, stats: () => undefined };

export interface QueryMonitor {
  /** Where suspicions (once per client) and each client's updated figures go; set once by the guard service. */
  listen(sink: MonitorSink): void;
  /**
   * Observes the n answered inputs of one request (`predicted[i]` the model's class for input i).
   * `features`, when given, are the inputs' monitor features as monitorFeatureBatchInto writes
   * them (the guard computes them while the model runs); else they are computed from x here.
   * Returns a promise when the caller should wait before answering (the monitor is behind).
   * `x` and `features` are read during the call only: the caller may reuse them once it returns.
   */
  observe(client: string, x: Float32Array, dims: readonly number[], n: number, predicted: ArrayLike<number>, features?: Float32Array): Promise<void> | undefined;
  /** The client's latest known figures (for /metrics). */
  stats(client: string): ClientStats | undefined;
  /** Resolves once every query observed so far has been tested. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The monitor on the calling thread: suspicions are raised during observe(). */
export function inlineMonitor(monitor: ExtractionMonitor = new ExtractionMonitor()): QueryMonitor {
  let sink = NO_SINK;
  return {
    listen: (f) => {
      sink = f;
    },
    observe(client, x, dims, n, predicted, features) {
      const size = dims.reduce((a, b) => a * b, 1);
      const fsize = monitorFeatureSize(dims);
      let suspicion: Suspicion | undefined;
      for (let i = 0; i < n; i++) {
        const s = features
          ? monitor.observeFeatures(client, features.subarray(i * fsize, (i + 1) * fsize), predicted[i]!)
          : monitor.observe(client, x.subarray(i * size, (i + 1) * size), dims, predicted[i]!);
        suspicion = s ?? suspicion;
      }
      const st = monitor.stats(client);
      if (st) sink.stats(client, st);
      if (suspicion) sink.suspicion(suspicion);
      return undefined;
    },
    stats: (client) => monitor.stats(client),
    idle: async () => undefined,
    close: async () => undefined,
  };
}

export interface ThreadedMonitorOptions {
  /** Queries the worker may be behind before answers wait for it (default 4096). */
  readonly maxLag?: number;
  /** Told when the worker fails (then monitoring continues inline). */
  readonly onWorkerError?: (message: string) => void;
  readonly now?: () => number;
  /** Tests: the worker's module (default monitor-worker.js). */
  readonly workerEntry?: URL;
}

/** The queries of the requests since the last hand-over, as the worker receives them. */
export interface MonitorBatch {
  /** Per request, in arrival order: its client, time and number of queries. */
  readonly requests: { readonly client: string; readonly time: number; readonly n: number }[];
  /** Queries in the batch; features per query. */
  readonly used: number;
  readonly size: number;
  /** used x size features and used predicted classes (the arrays may be longer: buffers are reused). */
  readonly features: Float32Array;
  readonly predicted: Int32Array;
}

export interface MonitorWorkerReply {
  readonly done: number;
  readonly suspicions: Suspicion[];
  readonly stats: [string, ClientStats][];
  /** The batch's buffers, handed back for reuse. */
  readonly features: Float32Array;
  readonly predicted: Int32Array;
}

/**
 * The request thread hands queries over every FLUSH_MS, or at once when FLUSH_QUERIES are queued:
 * a message per request cost the request thread (and the worker's wake-ups, the CPU) more than a
 * repeat query's test itself.
 */
const FLUSH_MS = 10;
const FLUSH_QUERIES = 512;

export function threadedMonitor(options: MonitorOptions = {}, t: ThreadedMonitorOptions = {}): QueryMonitor {
  const maxLag = t.maxLag ?? 4096;
  if (!Number.isSafeInteger(maxLag) || maxLag < 1) throw new RangeError(`maxLag must be a positive integer, got ${maxLag}`);
  const now = t.now ?? Date.now;
  new ExtractionMonitor(options); // validates the options here, where a mistake is reported
  let sink = NO_SINK;
  let fallback: QueryMonitor | undefined;
  const latest = new Map<string, ClientStats>();
  let batch: (MonitorBatch & { used: number }) | undefined;
  let queued = 0;
  /** Buffers the worker handed back, for the next batches. */
  const spare: { features: Float32Array; predicted: Int32Array }[] = [];
  let sent = 0;
  let done = 0;
  let timer: NodeJS.Timeout | undefined;
  let waiters: { until: number; resolve: () => void }[] = [];
  let closing = false;
  const worker: Worker = spawnWorker(t.workerEntry ?? new URL('./monitor-worker.js', import.meta.url), { options });
  worker.unref();

  const wake = () => {
    const lag = sent + queued - done;
    const ready = waiters.filter((w) => fallback || lag <= w.until);
    waiters = waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
    if (sent === done && waiters.length === 0) worker.unref();
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!batch || batch.used === 0 || fallback) return;
    const b = batch;
    batch = undefined;
    sent += queued;
    queued = 0;
    worker.ref(); // keep the process up while the worker owes an answer
    worker.postMessage(b, [b.features.buffer as ArrayBuffer, b.predicted.buffer as ArrayBuffer]);
  };
  /** The open batch, with room for n more queries of `size` features. */
  const room = (size: number, n: number): MonitorBatch & { used: number } => {
    if (batch && (batch.size !== size || (batch.used + n) * size > batch.features.length)) flush();
    if (batch) return batch;
    const cap = Math.max(FLUSH_QUERIES, n);
    let buffers = spare.pop();
    if (buffers && buffers.features.length < cap * size) buffers = undefined;
    buffers ??= { features: new Float32Array(cap * size), predicted: new Int32Array(cap) };
    batch = { requests: [], used: 0, size, ...buffers };
    return batch;
  };
  worker.on('message', (m: MonitorWorkerReply) => {
    done += m.done;
    if (spare.length < 4) spare.push({ features: m.features, predicted: m.predicted });
    for (const [client, st] of m.stats) {
      latest.set(client, st);
      sink.stats(client, st);
    }
    for (const s of m.suspicions) sink.suspicion(s);
    wake();
  });
  const fail = (message: string) => {
    if (fallback) return;
    fallback = inlineMonitor(new ExtractionMonitor(options));
    fallback.listen({ suspicion: (s) => sink.suspicion(s), stats: (c, st) => sink.stats(c, st) }); // the sink as it is then, not now
    batch = undefined;
    t.onWorkerError?.(message);
    wake();
  };
  worker.on('error', (err) => fail(err.message));
  const idle = (): Promise<void> => {
    if (fallback || sent + queued === done) return Promise.resolve();
    flush();
    return new Promise<void>((resolve) => waiters.push({ until: 0, resolve }));
  };
  worker.on('exit', (code) => {
    if (!closing) fail(`the monitor worker exited (code ${code})`);
  });

  return {
    listen: (f) => {
      sink = f;
    },
    observe(client, x, dims, n, predicted, features) {
      if (fallback) return fallback.observe(client, x, dims, n, predicted, features);
      const fsize = monitorFeatureSize(dims);
      const b = room(fsize, n);
      if (features) b.features.set(features.subarray(0, n * fsize), b.used * fsize);
      else monitorFeatureBatchInto(x, dims, n, b.features, b.used);
      for (let i = 0; i < n; i++) b.predicted[b.used + i] = predicted[i]!;
      b.requests.push({ client, time: now(), n });
      b.used += n;
      queued += n;
      if (queued >= FLUSH_QUERIES) flush();
      else timer ??= setTimeout(flush, FLUSH_MS);
      if (sent + queued - done <= maxLag) return undefined;
      return new Promise<void>((resolve) => waiters.push({ until: Math.floor(maxLag / 2), resolve }));
    },
    stats: (client) => (fallback ? fallback.stats(client) : latest.get(client)),
    idle,
    async close() {
      // Let the worker test what it was given (an alert raised by the last queries is still
      // reported), but not for long: a stuck worker must not hold the guard's shutdown.
      if (!fallback) await Promise.race([idle(), new Promise((r) => setTimeout(r, 2000).unref())]);
      closing = true;
      if (timer) clearTimeout(timer);
      await worker.terminate();
      for (const w of waiters) w.resolve();
      waiters = [];
    },
  };
}
