// An ONNX model run on its own worker thread. onnxruntime-node runs a session on the thread that
// calls it and blocks that thread for the whole model call (20-27 ms for a MobileNetV2 here), so
// with the model on the request thread the guard's own work on a query (the keyed quantiser and
// the monitor's features, about 1 ms for a 224x224x3 input) can only come after it. With the model
// on a worker, the guard does that work while the model runs, and the request thread stays free
// to parse the next request. Same session options, same scores (tested against openOnnxRunner).
import type { Worker } from 'node:worker_threads';
import { spawnWorker } from '../api/spawn-worker.js';
import { GuardError, type GuardErrorCode } from './errors.js';
import type { ModelRunner } from './model-runner.js';

/** x holds n inputs in its first n x size floats (buffers are reused, so it may be longer). */
export type OnnxWorkerRequest = { readonly id: number; readonly x: ArrayBuffer; readonly n: number } | { readonly close: true };

interface Failure {
  readonly code: string;
  readonly message: string;
}

export type OnnxWorkerReply =
  | { readonly ready: Pick<ModelRunner, 'description' | 'platform' | 'inputName' | 'outputName' | 'classes'> & { readonly dims: number[] } }
  | { readonly fail: Failure }
  | { readonly id: number; readonly y: Float32Array; readonly x: ArrayBuffer }
  | { readonly id: number; readonly error: Failure; readonly x: ArrayBuffer };

export interface OnnxThreadRunnerOptions {
  /** The worker module (tests point it at a worker that misbehaves). */
  readonly workerEntry?: URL;
}

/** Input buffers kept for reuse: a new 600 KB buffer per 224x224x3 request adds to GC pauses. */
const SPARE_BUFFERS = 4;

const guardError = (f: Failure) => new GuardError(f.code as GuardErrorCode, f.message);

interface Pending {
  resolve(y: Float32Array): void;
  reject(err: Error): void;
}

interface Started {
  worker: Worker;
  ready: Extract<OnnxWorkerReply, { ready: unknown }>['ready'];
}

/** Starts a worker on the model and waits until it has loaded it (or says why it cannot). */
function start(path: string, entry: URL, pending: Map<number, Pending>, spare: ArrayBuffer[], onDeath: (w: Worker, why: string) => void): Promise<Started> {
  const worker = spawnWorker(entry, { path });
  return new Promise<Started>((resolve, reject) => {
    let loaded = false;
    worker.on('message', (m: OnnxWorkerReply) => {
      if ('ready' in m) {
        loaded = true;
        worker.unref();
        resolve({ worker, ready: m.ready });
      } else if ('fail' in m) reject(guardError(m.fail));
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (pending.size === 0) worker.unref();
        if (spare.length < SPARE_BUFFERS) spare.push(m.x); // the input buffer, back for the next request
        if ('y' in m) p?.resolve(m.y);
        else p?.reject(guardError(m.error));
      }
    });
    worker.on('error', (err) => (loaded ? onDeath(worker, err.message) : reject(new GuardError('GUARD_BAD_INPUT', `the model worker failed while loading ${path}: ${err.message}`))));
    worker.on('exit', (code) => (loaded ? onDeath(worker, `it exited (code ${code})`) : reject(new GuardError('GUARD_BAD_INPUT', `the model worker exited while loading ${path}`))));
  });
}

/**
 * openOnnxRunner's model on a worker thread. Requests queue on the worker in arrival order. If
 * the worker dies, the requests it held fail with GUARD_UPSTREAM (HTTP 502) and the next request
 * starts a new worker on the same file.
 */
export async function openOnnxThreadRunner(path: string, o: OnnxThreadRunnerOptions = {}): Promise<ModelRunner> {
  const entry = o.workerEntry ?? new URL('./onnx-runner-worker.js', import.meta.url);
  const pending = new Map<number, Pending>();
  const spare: ArrayBuffer[] = [];
  let closing = false;
  let nextId = 0;
  let current: Promise<Started> | undefined;
  let active: Worker | undefined;
  const onDeath = (w: Worker, why: string) => {
    if (closing) return;
    if (w === active) {
      current = undefined; // the next request starts a fresh worker
      active = undefined;
    }
    const err = new GuardError('GUARD_UPSTREAM', `the model worker stopped (${why}); the next request restarts it`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const live = () =>
    (current ??= start(path, entry, pending, spare, onDeath).then(
      (s) => {
        active = s.worker;
        return s;
      },
      (err: unknown) => {
        current = undefined; // a restart that could not load the model is tried again next time
        throw err;
      },
    ));
  const first = await live();
  const { description, platform, inputName, outputName, dims, classes } = first.ready;
  const size = dims.reduce((a, b) => a * b, 1);
  return {
    description: `${description} (worker thread)`, platform, inputName, outputName, dims, classes,
    async run(x: Float32Array, n: number): Promise<Float32Array> {
      if (closing) throw new GuardError('GUARD_UPSTREAM', 'the model runner is closed');
      if (x.length !== n * size) throw new RangeError(`run takes ${n} x ${size} values, got ${x.length}`);
      // Posted before run() returns when the worker is up: the caller's work after this call
      // (the guard's quantiser) then runs while the model does.
      const worker = active ?? (await live()).worker;
      // A copy: x stays the caller's (the guard quantises it while the model runs).
      const i = spare.findIndex((b) => b.byteLength >= x.byteLength);
      const buffer = i >= 0 ? spare.splice(i, 1)[0]! : new ArrayBuffer(x.byteLength);
      new Float32Array(buffer, 0, x.length).set(x);
      const id = nextId++;
      const answer = new Promise<Float32Array>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.ref(); // keep the process up while the worker owes an answer
      worker.postMessage({ id, x: buffer, n } satisfies OnnxWorkerRequest, [buffer]);
      return answer;
    },
    async close() {
      if (closing) return;
      closing = true;
      const s = await current?.catch(() => undefined);
      if (!s) return;
      const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
      s.worker.postMessage({ close: true } satisfies OnnxWorkerRequest);
      const timer = setTimeout(() => void s.worker.terminate(), 2000);
      await exited;
      clearTimeout(timer);
      for (const p of pending.values()) p.reject(new GuardError('GUARD_UPSTREAM', 'the model runner is closed'));
      pending.clear();
    },
  };
}
