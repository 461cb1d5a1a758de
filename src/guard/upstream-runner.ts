// An upstream model server (KServe, Triton: Open Inference Protocol v2; TensorFlow Serving REST)
// behind the guard. Calls go through the verifier's HTTP client (src/verify/http-client.ts): a
// per-attempt timeout covering the body, retries with backoff and jitter on 5xx/429/network
// errors, a bound on response size; each guarded request gets its own small attempt budget.
import { flattenNumbers, parseEndpoint, RequestBudget, requestJson, type RemoteOptions, type RemoteProtocol } from '../verify/index.js';
import { GuardError } from './errors.js';
import type { ModelRunner } from './model-runner.js';

export interface UpstreamOptions {
  readonly url: string;
  readonly protocol: RemoteProtocol;
  readonly modelName?: string;
  /** Input dims without the batch axis; required for TF Serving (OIP reads the metadata). */
  readonly dims?: readonly number[];
  readonly remote?: RemoteOptions;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function nest(x: Float32Array, dims: readonly number[]): unknown {
  if (dims.length === 1) return Array.from(x);
  const step = x.length / dims[0]!;
  return Array.from({ length: dims[0]! }, (_, i) => nest(x.subarray(i * step, (i + 1) * step), dims.slice(1)));
}

export async function openUpstreamRunner(o: UpstreamOptions): Promise<ModelRunner> {
  const { base, modelName } = parseEndpoint({ url: o.url, protocol: o.protocol, ...(o.modelName ? { modelName: o.modelName } : {}) });
  const remote = o.remote ?? {};
  const attempts = () => new RequestBudget((remote.retries ?? 3) + 1);
  const model = encodeURIComponent(modelName);
  let inputName = 'input';
  let outputName = 'output';
  let dims = o.dims ? [...o.dims] : undefined;
  if (o.protocol === 'oip-v2') {
    const meta = await requestJson(`${base}/v2/models/${model}`, { method: 'GET' }, remote, attempts());
    const input = isObj(meta) && Array.isArray(meta.inputs) ? meta.inputs[0] : undefined;
    const output = isObj(meta) && Array.isArray(meta.outputs) ? meta.outputs[0] : undefined;
    if (!isObj(input) || typeof input.name !== 'string' || !Array.isArray(input.shape)) throw new GuardError('GUARD_UPSTREAM', 'the upstream model metadata has no inputs[0] with a name and a shape');
    inputName = input.name.slice(0, 256);
    if (isObj(output) && typeof output.name === 'string') outputName = output.name.slice(0, 256);
    dims ??= input.shape.slice(1).map((d) => Number(d));
  }
  if (!dims || dims.length === 0 || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new GuardError('GUARD_BAD_INPUT', 'give the upstream model\'s input dims (--input-shape, e.g. 28,28,1): they are not fixed in its metadata');
  const d = dims;
  const url = o.protocol === 'oip-v2' ? `${base}/v2/models/${model}/infer` : `${base}/v1/models/${model}:predict`;
  const run = async (x: Float32Array, n: number): Promise<Float32Array> => {
    try {
      if (o.protocol === 'oip-v2') {
        const res = await requestJson(url, { method: 'POST', body: { inputs: [{ name: inputName, shape: [n, ...d], datatype: 'FP32', data: Array.from(x) }] } }, remote, attempts());
        const out = isObj(res) && Array.isArray(res.outputs) ? res.outputs[0] : undefined;
        if (!isObj(out)) throw new GuardError('GUARD_UPSTREAM', 'the upstream answer has no outputs[0]');
        return Float32Array.from(flattenNumbers(out.data, n * 100_000, 'upstream outputs[0].data'));
      }
      const size = d.reduce((a, b) => a * b, 1);
      const instances = Array.from({ length: n }, (_, i) => nest(x.subarray(i * size, (i + 1) * size), d));
      const res = await requestJson(url, { method: 'POST', body: { instances } }, remote, attempts());
      const preds = isObj(res) ? res.predictions : undefined;
      if (!Array.isArray(preds) || preds.length !== n) throw new GuardError('GUARD_UPSTREAM', `the upstream answer has no "predictions" array of ${n} rows`);
      return Float32Array.from(flattenNumbers(preds, n * 100_000, 'upstream predictions'));
    } catch (err) {
      if (err instanceof GuardError) throw err;
      throw new GuardError('GUARD_UPSTREAM', `upstream model server failed: ${(err as Error).message}`, { cause: err });
    }
  };
  const size = d.reduce((a, b) => a * b, 1);
  const probe = await run(new Float32Array(size), 1);
  if (probe.length < 2) throw new GuardError('GUARD_UPSTREAM', 'the upstream model answers fewer than 2 scores: not a classifier');
  return { description: `${o.protocol} upstream ${url.replace(/\/\/[^@/]*@/, '//')}`, platform: `upstream-${o.protocol}`, inputName, outputName, dims: d, classes: probe.length, run, close: async () => undefined };
}
