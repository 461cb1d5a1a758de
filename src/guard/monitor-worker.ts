// Worker thread of query-monitor.ts: keeps every client's PRADA state and tests each batch of
// queries the request thread sends (already reduced to monitor features), in arrival order.
import { parentPort, workerData } from 'node:worker_threads';
import { ExtractionMonitor, type ClientStats, type MonitorOptions, type Suspicion } from './monitor.js';
import type { MonitorBatch, MonitorWorkerReply } from './query-monitor.js';

const { options } = workerData as { options: MonitorOptions };
let time = Date.now();
const monitor = new ExtractionMonitor(options, () => time);
parentPort!.on('message', (b: MonitorBatch) => {
  const suspicions: Suspicion[] = [];
  const touched = new Set<string>();
  let q = 0;
  for (const r of b.requests) {
    time = r.time;
    for (let i = 0; i < r.n; i++, q++) {
      const s = monitor.observeFeatures(r.client, b.features.subarray(q * b.size, (q + 1) * b.size), b.predicted[q]!);
      if (s) suspicions.push(s);
    }
    touched.add(r.client);
  }
  const stats: [string, ClientStats][] = [...touched].map((c) => [c, monitor.stats(c)!]);
  const reply: MonitorWorkerReply = { done: q, suspicions, stats, features: b.features, predicted: b.predicted };
  parentPort!.postMessage(reply, [b.features.buffer as ArrayBuffer, b.predicted.buffer as ArrayBuffer]);
});
