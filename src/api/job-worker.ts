// The worker-thread side of the job runner: imports the job kind's module, runs it, and reports
// progress, the result, or a typed failure. Unknown errors' details go to the server log only.
import { parentPort, workerData } from 'node:worker_threads';
import { isHallmarkError, type JsonObject } from '../../ledger/index.js';
import type { JobFunction } from './jobs.js';

export type WorkerMessage =
  | { t: 'progress'; progress: JsonObject }
  | { t: 'done'; result: JsonObject }
  | { t: 'error'; code: string; message: string; detail?: string };

interface Data {
  module: string;
  params: JsonObject;
  homeDir: string;
  jobId: string;
  actor: string;
  attempt?: number;
  passphrase?: string;
}

async function main(port: NonNullable<typeof parentPort>, data: Data): Promise<void> {
  const post = (m: WorkerMessage) => port.postMessage(m);
  try {
    const mod = (await import(data.module)) as { run?: JobFunction };
    if (typeof mod.run !== 'function') throw new TypeError(`job module ${data.module} exports no run()`);
    const result = await mod.run(data.params, {
      homeDir: data.homeDir, jobId: data.jobId, actor: data.actor, ...(data.attempt ? { attempt: data.attempt } : {}),
      ...(data.passphrase ? { passphrase: data.passphrase } : {}),
      progress: (progress) => post({ t: 'progress', progress }),
    });
    post({ t: 'done', result });
  } catch (err) {
    if (isHallmarkError(err)) post({ t: 'error', code: err.code, message: err.message.split('\n')[0] ?? '' });
    else post({ t: 'error', code: 'JOB_FAILED', message: 'the job failed with an internal error; the server log has the details', detail: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
}

if (parentPort) await main(parentPort, workerData as Data);
