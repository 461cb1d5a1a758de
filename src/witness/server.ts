// `hallmark witness serve`: the witness over HTTP (POST /add-checkpoint, GET /<origin hash>/checkpoint).
import { Hono } from 'hono';
import { addCheckpoint, latestCosigned, MAX_REQUEST_BYTES, type WitnessOptions } from './witness.js';

export function witnessApp(o: WitnessOptions): Hono {
  const app = new Hono();
  app.post('/add-checkpoint', async (c) => {
    const len = Number(c.req.header('content-length') ?? '0');
    if (len > MAX_REQUEST_BYTES) return c.text('request too large\n', 400);
    const buf = new Uint8Array(await c.req.arrayBuffer());
    if (buf.length > MAX_REQUEST_BYTES) return c.text('request too large\n', 400);
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      return c.text('request is not UTF-8\n', 400);
    }
    const r = addCheckpoint(body, o);
    return c.body(r.body, r.status, { 'Content-Type': r.contentType });
  });
  app.get('/:hash/checkpoint', (c) => {
    const hash = c.req.param('hash');
    if (!/^[0-9a-f]{64}$/.test(hash)) return c.text('not found\n', 404);
    const note = latestCosigned(hash, o);
    return note ? c.body(note, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' }) : c.text('never cosigned a checkpoint of that log\n', 404);
  });
  app.notFound((c) => c.text('not found\n', 404));
  return app;
}
