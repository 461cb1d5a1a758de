// A synchronous call into an asynchronous worker thread. The Ledger interface is synchronous
// (every caller was written against better-sqlite3), while node-postgres only speaks promises.
// The calling thread posts a request on a MessageChannel and blocks in Atomics.wait on a shared
// Int32Array; the worker runs the request on its own event loop, posts the reply and notifies.
// receiveMessageOnPort then takes the reply without returning to the event loop. A call that
// gets no reply within the timeout fails with LEDGER_UNAVAILABLE and the worker is stopped, so a
// late reply can never be mistaken for the answer to a later call.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { LedgerError, type LedgerErrorCode } from './errors.js';

export interface BridgeReply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: { name: string; code?: string; message: string };
}

export interface BridgeRequest {
  readonly id: number;
  readonly op: string;
  readonly args: unknown[];
}

/** The worker's side: answers each request on the port, then wakes the caller. */
export function serveBridge(port: MessagePort, signal: Int32Array, handle: (op: string, args: unknown[]) => Promise<unknown>): void {
  port.on('message', async (req: BridgeRequest) => {
    let reply: BridgeReply;
    try {
      reply = { id: req.id, ok: true, value: await handle(req.op, req.args) };
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      reply = { id: req.id, ok: false, error: { name: e.name ?? 'Error', ...(typeof e.code === 'string' ? { code: e.code } : {}), message: e.message ?? String(err) } };
    }
    port.postMessage(reply);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
}

export function rebuildError(e: NonNullable<BridgeReply['error']>): Error {
  if (e.code?.startsWith('LEDGER_')) return new LedgerError(e.code as LedgerErrorCode, e.message);
  if (e.name === 'TypeError') return new TypeError(e.message);
  if (e.name === 'RangeError') return new RangeError(e.message);
  return new LedgerError('LEDGER_UNAVAILABLE', e.message);
}

export class SyncBridge {
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private next = 1;
  private dead: string | undefined;

  constructor(readonly worker: Worker, private readonly timeoutMs: number) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    worker.postMessage({ bridge: { port: port2, signal: this.signal } }, [port2]);
    worker.on('error', (err) => (this.dead = `the ledger worker failed: ${err.message}`));
    worker.on('exit', () => (this.dead ??= 'the ledger worker has stopped'));
    worker.unref();
    this.port.unref();
  }

  call<T>(op: string, ...args: unknown[]): T {
    if (this.dead) throw new LedgerError('LEDGER_UNAVAILABLE', this.dead);
    const id = this.next++;
    Atomics.store(this.signal, 0, 0);
    try {
      this.port.postMessage({ id, op, args } satisfies BridgeRequest);
    } catch (err) {
      // Functions, symbols and the like cannot cross to the worker: they are not JSON either.
      throw new LedgerError('LEDGER_BAD_ENTRY', `the ledger call holds a value that is not plain JSON: ${(err as Error).message}`);
    }
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.signal, 0, 0, left) === 'timed-out') {
        this.fail(`the ledger database did not answer within ${Math.round(this.timeoutMs / 1000)} s`);
      }
      const got = receiveMessageOnPort(this.port);
      if (!got) continue; // woken before the message landed: wait again
      const reply = got.message as BridgeReply;
      if (reply.id !== id) continue;
      if (!reply.ok) throw rebuildError(reply.error!);
      return reply.value as T;
    }
  }

  private fail(message: string): never {
    this.dead = `${message}; reopen the ledger`;
    void this.worker.terminate();
    throw new LedgerError('LEDGER_UNAVAILABLE', message);
  }

  close(): void {
    if (!this.dead) {
      try {
        this.call('close');
      } catch {
        /* closing anyway */
      }
    }
    this.dead = 'the ledger is closed';
    this.port.close();
    void this.worker.terminate();
  }
}

/** Long calls (the audit) go over the worker's own channel and do not block the caller. */
export function callAsync<T>(worker: Worker, op: string, args: unknown[] = []): Promise<T> {
  const id = Math.random();
  return new Promise<T>((resolve, reject) => {
    const onMessage = (reply: BridgeReply & { async?: boolean }) => {
      if (!reply.async || reply.id !== id) return;
      done();
      if (reply.ok) resolve(reply.value as T);
      else reject(rebuildError(reply.error!));
    };
    const onExit = () => {
      done();
      reject(new LedgerError('LEDGER_UNAVAILABLE', 'the ledger worker stopped during the call'));
    };
    const done = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      worker.unref();
    };
    worker.ref();
    worker.on('message', onMessage);
    worker.on('exit', onExit);
    worker.postMessage({ async: true, id, op, args });
  });
}
