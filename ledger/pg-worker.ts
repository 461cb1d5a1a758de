// The worker thread behind the PostgreSQL ledger: owns the connection pool and the async store,
// and answers the synchronous bridge (sync-bridge.ts) and the async calls (the audit).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PgStore, type PgStoreOptions } from './pg-store.js';
import { serveBridge, type BridgeReply } from './sync-bridge.js';

const options = workerData as PgStoreOptions;
let store: Promise<PgStore> | undefined;
const open = () => (store ??= PgStore.open(options));

async function handle(op: string, args: unknown[]): Promise<unknown> {
  if (op === 'open') {
    const s = await open();
    return { origin: s.origin, verifierKey: s.verifierKey };
  }
  const s = await open();
  switch (op) {
    case 'size': return s.size();
    case 'appendBatch': return s.appendBatch(args[0] as never, args[1] as string);
    case 'get': return s.get(args[0] as number);
    case 'list': return s.list(args[0] as never);
    case 'root': return s.root(args[0] as number | undefined);
    case 'subtreeHashes': return s.subtreeHashes(args[0] as number, args[1] as number, args[2] as number);
    case 'inclusionProof': return s.inclusionProof(args[0] as number, args[1] as number | undefined);
    case 'consistencyProof': return s.consistencyProof(args[0] as number, args[1] as number | undefined);
    case 'checkpoint': return s.checkpoint(args[0] as string);
    case 'checkpointNotes': return s.checkpointNotes(args[0] as never);
    case 'audit': return s.audit();
    case 'close': return s.close();
    default: throw new TypeError(`unknown ledger operation ${op}`);
  }
}

parentPort!.on('message', async (msg: { bridge?: { port: MessagePort; signal: Int32Array }; async?: boolean; id: number; op: string; args: unknown[] }) => {
  if (msg.bridge) {
    serveBridge(msg.bridge.port, msg.bridge.signal, handle);
    return;
  }
  if (!msg.async) return;
  let reply: BridgeReply & { async: true };
  try {
    reply = { async: true, id: msg.id, ok: true, value: await handle(msg.op, msg.args) };
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    reply = { async: true, id: msg.id, ok: false, error: { name: e.name ?? 'Error', ...(typeof e.code === 'string' ? { code: e.code } : {}), message: e.message ?? String(err) } };
  }
  parentPort!.postMessage(reply);
});
