// A real model server on loopback for the remote verification tests: node:http on port 0,
// serving one ONNX model with onnxruntime-node in both REST protocols as published:
//   Open Inference Protocol v2 (KServe / Triton): GET /v2/health/ready, GET /v2/models/{name},
//     POST /v2/models/{name}/infer  { inputs: [{ name, shape, datatype, data }] } -> { model_name, outputs }
//   TensorFlow Serving REST: GET /v1/models/{name}, POST /v1/models/{name}:predict { instances } -> { predictions }
// Switches make it misbehave the ways real servers do: slow answers, 500s (always or for the
// first k requests), 429s with Retry-After, garbage bodies, a 404 model, a hung connection.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ort from 'onnxruntime-node';

export type ServerMode =
  | { kind: 'ok' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'error'; status: number; first?: number; retryAfter?: number }
  | { kind: 'garbage' }
  | { kind: 'hang' };

export interface InferenceServer {
  readonly url: string;
  readonly modelName: string;
  /** Requests received so far, by path kind. */
  readonly counts: { metadata: number; infer: number; predict: number; total: number };
  setMode(mode: ServerMode): void;
  resetCounts(): void;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const send = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const flatten = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flatten) : [v as number]);

export async function startInferenceServer(modelPath: string, modelName = 'mnist'): Promise<InferenceServer> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const meta = session.inputMetadata[0]!;
  const inputDims = meta.isTensor ? meta.shape.map((d) => (typeof d === 'number' ? d : -1)) : [];
  let mode: ServerMode = { kind: 'ok' };
  const counts = { metadata: 0, infer: 0, predict: 0, total: 0 };
  const hung = new Set<ServerResponse>();

  const run = async (data: number[], shape: number[]) => {
    const out = await session.run({ [inputName]: new ort.Tensor('float32', Float32Array.from(data), shape) });
    const y = out[outputName]!;
    return { data: Array.from(y.data as Float32Array), shape: y.dims as number[] };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    counts.total++;
    const path = (req.url ?? '').split('?')[0]!;
    const body = req.method === 'POST' ? await readBody(req) : '';
    const m = mode;
    if (m.kind === 'hang') {
      hung.add(res);
      return;
    }
    if (m.kind === 'slow') await new Promise((r) => setTimeout(r, m.delayMs));
    if (m.kind === 'error' && (m.first === undefined || counts.total <= m.first)) {
      if (m.retryAfter !== undefined) res.setHeader('retry-after', String(m.retryAfter));
      return send(res, m.status, { error: `injected ${m.status}` });
    }
    if (m.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"outputs": [{"name": "y", "data": [1, 2, ');
    }
    const v2 = /^\/v2\/models\/([^/]+)(\/infer)?$/.exec(path);
    const v1 = /^\/v1\/models\/([^/:]+)(:predict)?$/.exec(path);
    if (path === '/v2/health/ready') return send(res, 200, {});
    if (v2 && decodeURIComponent(v2[1]!) === modelName) {
      if (!v2[2] && req.method === 'GET') {
        counts.metadata++;
        return send(res, 200, { name: modelName, versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: inputName, datatype: 'FP32', shape: inputDims }], outputs: [{ name: outputName, datatype: 'FP32', shape: [-1, 10] }] });
      }
      if (v2[2] && req.method === 'POST') {
        counts.infer++;
        let parsed: { inputs?: { name?: string; shape?: number[]; datatype?: string; data?: unknown }[] };
        try {
          parsed = JSON.parse(body);
        } catch {
          return send(res, 400, { error: 'request body is not JSON' });
        }
        const input = parsed.inputs?.[0];
        if (!input || input.name !== inputName || input.datatype !== 'FP32' || !Array.isArray(input.shape)) return send(res, 400, { error: `expected inputs[0] named ${inputName}, FP32, with a shape` });
        const y = await run(flatten(input.data), input.shape);
        return send(res, 200, { model_name: modelName, model_version: '1', outputs: [{ name: outputName, shape: y.shape, datatype: 'FP32', data: y.data }] });
      }
    }
    if (v1 && decodeURIComponent(v1[1]!) === modelName) {
      if (!v1[2] && req.method === 'GET') return send(res, 200, { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
      if (v1[2] && req.method === 'POST') {
        counts.predict++;
        let parsed: { instances?: unknown[] };
        try {
          parsed = JSON.parse(body);
        } catch {
          return send(res, 400, { error: 'request body is not JSON' });
        }
        const instances = parsed.instances;
        if (!Array.isArray(instances) || instances.length === 0) return send(res, 400, { error: 'expected a non-empty "instances" array' });
        const flat = instances.map(flatten);
        const size = flat[0]!.length;
        const shape = [instances.length, ...inputDims.slice(1).map((d) => (d < 0 ? size : d))];
        const y = await run(flat.flat(), shape);
        const classes = y.data.length / instances.length;
        return send(res, 200, { predictions: Array.from({ length: instances.length }, (_, i) => y.data.slice(i * classes, (i + 1) * classes)) });
      }
    }
    return send(res, 404, { error: `no route for ${req.method} ${path}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, { error: err.message }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    modelName,
    counts,
    setMode: (m) => {
      mode = m;
    },
    resetCounts: () => {
      counts.metadata = counts.infer = counts.predict = counts.total = 0;
    },
    close: async () => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await session.release();
    },
  };
}
