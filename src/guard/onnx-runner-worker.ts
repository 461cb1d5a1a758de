// Worker thread of onnx-thread-runner.ts: opens the ONNX model with the same runner the request
// thread would use and answers { id, x, n } with the scores, one request at a time in arrival
// order. onnxruntime-node runs a session on the calling thread and blocks it for the whole model
// call, so here it blocks this thread instead of the guard's request thread.
import { parentPort, workerData } from 'node:worker_threads';
import { HallmarkError } from '../../ledger/index.js';
import { openOnnxRunner, type ModelRunner } from './model-runner.js';
import type { OnnxWorkerReply, OnnxWorkerRequest } from './onnx-thread-runner.js';

const { path } = workerData as { path: string };
const failure = (err: unknown) => ({
  code: err instanceof HallmarkError ? (err.code as string) : 'GUARD_UPSTREAM',
  message: (err as Error).message?.split('\n')[0] ?? String(err),
});
const post = (m: OnnxWorkerReply, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(m, transfer);

let runner: ModelRunner;
let size = 0;
try {
  runner = await openOnnxRunner(path);
  const { description, platform, inputName, outputName, dims, classes } = runner;
  post({ ready: { description, platform, inputName, outputName, dims: [...dims], classes } });
  size = dims.reduce((a, b) => a * b, 1);
} catch (err) {
  post({ fail: failure(err) });
  process.exit(0);
}

let queue = Promise.resolve();
parentPort!.on('message', (m: OnnxWorkerRequest) => {
  if ('close' in m) {
    queue = queue.then(() => runner.close()).finally(() => process.exit(0));
    return;
  }
  queue = queue.then(async () => {
    try {
      const y = await runner.run(new Float32Array(m.x, 0, m.n * size), m.n);
      const copy = Float32Array.from(y); // onnxruntime may own y's memory: send a copy we own
      post({ id: m.id, y: copy, x: m.x }, [copy.buffer, m.x]);
    } catch (err) {
      post({ id: m.id, error: failure(err), x: m.x }, [m.x]);
    }
  });
});
