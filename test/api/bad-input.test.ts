// Hostile or broken requests: each answered with a 4xx and a code, and nothing written
// (no file under uploads/, no new ledger entry).
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listFiles, storedFiles } from './files.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';

let t: TestApi;
let size0: number;
beforeAll(() => {
  t = makeTestApi({
    limits: { jsonBodyBytes: 2048, uploadBytes: 64 * 1024, uploadsPerWindow: 1000 },
    // A route group with a bug in it, to see what an unexpected error looks like from outside.
    groups: [(app) => app.get('/v1/test-only-boom', () => { throw new Error('database file at /secret/place is broken'); })],
  });
});
afterAll(() => t.dispose());
beforeEach(() => { size0 = t.home.ledger.size(); });
afterEach(() => {
  expect(storedFiles(t.dir)).toEqual([]);
  expect(t.home.ledger.size()).toBe(size0);
});

async function expectError(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  const e = await errorOf(res);
  expect(e.code).toBe(code);
  expect(e.message).not.toMatch(/\n|at .*\.ts:\d+/);
  return e.message;
}

const jsonPost = (path: string, body: string, type = 'application/json') => t.req(path, { method: 'POST', role: 'engineer', headers: { 'content-type': type }, body });
const put = (path: string, body: BodyInit | null, headers: Record<string, string> = {}) =>
  t.req(path, { method: 'PUT', role: 'engineer', headers: { 'content-type': 'application/octet-stream', ...headers }, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);

function streamOf(chunks: Uint8Array[], fail?: Error): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(chunks[i++]!);
      else if (fail) c.error(fail);
      else c.close();
    },
  });
}

describe('bad input', () => {
  it('malformed JSON', async () => {
    const msg = await expectError(await jsonPost('/v1/ledger/entries', '{"type": "a.b", "payload": {'), 400, 'API_INVALID_REQUEST');
    expect(msg).toMatch(/JSON/i);
  });

  it('JSON that does not fit the schema, with a readable one-line message', async () => {
    const msg = await expectError(await jsonPost('/v1/ledger/entries', JSON.stringify({ type: 'NoDots', payload: [] })), 400, 'API_INVALID_REQUEST');
    expect(msg).toMatch(/^invalid request: body\.type: expected a dotted lower-case name/);
    await expectError(await jsonPost('/v1/models', JSON.stringify({ model: { name: 'x', digest: { sha256: 'zz' } }, format: 'onnx' })), 400, 'API_INVALID_REQUEST');
    await expectError(await jsonPost('/v1/datasets', JSON.stringify({ dataset: { name: 'x', digest: { sha256: 'a'.repeat(64) }, extra: 1 }, items: 1 })), 400, 'API_INVALID_REQUEST');
    await expectError(await jsonPost('/v1/datasets', 'null'), 400, 'API_INVALID_REQUEST');
  });

  it('wrong content types', async () => {
    await expectError(await jsonPost('/v1/ledger/entries', JSON.stringify({ type: 'a.b', payload: {} }), 'text/plain'), 415, 'API_UNSUPPORTED_MEDIA_TYPE');
    await expectError(await jsonPost('/v1/models', 'name=x', 'application/x-www-form-urlencoded'), 415, 'API_UNSUPPORTED_MEDIA_TYPE');
    await expectError(await put('/v1/uploads/models/m.onnx', new Uint8Array(10), { 'content-type': 'application/json' }), 415, 'API_UNSUPPORTED_MEDIA_TYPE');
    await expectError(await put('/v1/uploads/models/m.onnx', new Uint8Array(10), { 'content-type': 'multipart/form-data; boundary=x' }), 415, 'API_UNSUPPORTED_MEDIA_TYPE');
  });

  it('oversized bodies', async () => {
    await expectError(await jsonPost('/v1/ledger/entries', JSON.stringify({ type: 'a.b', payload: { pad: 'x'.repeat(4096) } })), 413, 'API_TOO_LARGE');
    await expectError(await put('/v1/uploads/models/big.onnx', new Uint8Array(64 * 1024 + 1)), 413, 'API_TOO_LARGE');
    // No Content-Length: the limit is enforced while streaming, and the partial file removed.
    const chunks = Array.from({ length: 20 }, () => new Uint8Array(8192).fill(7));
    await expectError(await put('/v1/uploads/models/big.onnx', streamOf(chunks)), 413, 'API_TOO_LARGE');
  });

  it('truncated uploads', async () => {
    // The client goes away mid-body.
    const cut = streamOf([new Uint8Array(1000), new Uint8Array(1000)], new Error('socket hang up'));
    await expectError(await put('/v1/uploads/models/cut.onnx', cut), 400, 'API_TRUNCATED_UPLOAD');
    // Fewer bytes than Content-Length announced.
    const short = streamOf([new Uint8Array(1000)]);
    const msg = await expectError(await put('/v1/uploads/models/short.onnx', short, { 'content-length': '5000' }), 400, 'API_TRUNCATED_UPLOAD');
    expect(msg).toBe('upload ended after 1000 of 5000 bytes');
    await expectError(await put('/v1/uploads/models/empty.onnx', new Uint8Array(0)), 400, 'API_INVALID_REQUEST');
  });

  it('path traversal and odd names', async () => {
    for (const name of ['..%2F..%2Fevil.onnx', '..', '.hidden.onnx', 'a%2Fb.onnx', 'a%5Cb.onnx', 'a..b.onnx', 'nul%00.onnx', 'sp%20ace.onnx', `${'a'.repeat(129)}.onnx`]) {
      const res = await put(`/v1/uploads/models/${name}`, new Uint8Array(10).fill(1));
      expect([400, 404], name).toContain(res.status);
      const e = await errorOf(res);
      expect(['API_BAD_NAME', 'API_NOT_FOUND'], name).toContain(e.code);
    }
    await expectError(await put('/v1/uploads/models/..%2F..%2Fevil.onnx', new Uint8Array(10).fill(1)), 400, 'API_BAD_NAME');
  });

  it('a format that cannot be guessed, and bad query values', async () => {
    await expectError(await put('/v1/uploads/models/model.bin', new Uint8Array(10).fill(1)), 400, 'API_INVALID_REQUEST');
    await expectError(await put('/v1/uploads/models/model.bin?format=ONNX!', new Uint8Array(10).fill(1)), 400, 'API_INVALID_REQUEST');
  });

  it('logs internal details server-side only, without the caller\'s key', async () => {
    const before = t.logs.length;
    const res = await t.req('/v1/test-only-boom', { role: 'admin' });
    const msg = await expectError(res, 500, 'INTERNAL');
    expect(msg).not.toContain('/secret/place');
    const logged = t.logs.slice(before).join('\n');
    expect(logged).toContain('/secret/place');
    for (const s of Object.values(t.secrets)) expect(t.logs.join('\n')).not.toContain(s.slice(16));
  });
});
