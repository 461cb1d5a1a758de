// A model worker that dies on its first request for two inputs (n = 2): the real worker
// (src/guard/onnx-runner-worker.ts) with one more listener, registered first, that exits the
// thread before the real one sees the message. onnx-thread-runner.test.ts uses it.
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (m: { n?: number }) => {
  if (m.n === 2) process.exit(3);
});
await import('../../src/guard/onnx-runner-worker.js');
