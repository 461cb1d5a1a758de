// The worker thread behind the PostgreSQL API store: owns its connection pool and answers the
// synchronous bridge (ledger/sync-bridge.ts), exactly as the ledger's worker does.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { serveBridge } from '../../../ledger/sync-bridge.js';
import { PgApiRows, type PgApiOptions } from './pg-rows.js';

let rows: Promise<PgApiRows> | undefined;
const open = () => (rows ??= PgApiRows.open(workerData as PgApiOptions));

async function handle(op: string, args: unknown[]): Promise<unknown> {
  const r = await open();
  if (op === 'open') return true;
  if (op === 'close') return r.close();
  const fn = (r as unknown as Record<string, unknown>)[op];
  if (!/^(key|keys|job)[A-Z]/.test(op) || typeof fn !== 'function') throw new TypeError(`unknown API store operation ${op}`);
  return (fn as (...a: unknown[]) => Promise<unknown>).apply(r, args);
}

parentPort!.on('message', (msg: { bridge?: { port: MessagePort; signal: Int32Array } }) => {
  if (msg.bridge) serveBridge(msg.bridge.port, msg.bridge.signal, handle);
});
