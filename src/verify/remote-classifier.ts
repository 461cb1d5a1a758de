// Remote suspects behind an inference endpoint, in the two REST protocols model servers speak:
//
// Open Inference Protocol v2 (KServe "V2 inference protocol", Triton's HTTP/REST API):
//   GET  {base}/v2/models/{name}          -> { name, platform, inputs: [{ name, datatype, shape }], outputs }
//   POST {base}/v2/models/{name}/infer    { inputs: [{ name, shape, datatype: "FP32", data }] }
//                                         -> { model_name, outputs: [{ name, shape, datatype, data }] }
//   (tensor data row-major, flat; servers may also send nested arrays, which we flatten)
// TensorFlow Serving REST API (row format):
//   POST {base}/v1/models/{name}:predict  { instances: [ image, ... ] } -> { predictions: [ scores, ... ] }
//
// Triggers go out in batches over requestJson (timeouts, retries, budget) with a concurrency cap.
import { argmaxRows, inputLayout, toNchw, type Classifier, type ImageShape } from './classifier.js';
import { VerifyError } from './errors.js';
import { mapWithConcurrency, redactUrl, REMOTE_DEFAULTS, RequestBudget, requestJson, type RemoteOptions } from './http-client.js';

export type RemoteProtocol = 'oip-v2' | 'tfserving';
export const REMOTE_PROTOCOLS: readonly RemoteProtocol[] = ['oip-v2', 'tfserving'];

export interface RemoteSuspect {
  /** Base URL of the server (http://host:port), or the full OIP infer / TF Serving predict URL. */
  readonly url: string;
  readonly protocol: RemoteProtocol;
  /** The served model's name; read from the URL when it is a full model URL. */
  readonly modelName?: string;
  /** OIP input tensor name; asked from the model metadata when absent. */
  readonly inputName?: string;
  /** Image layout the model takes (default: from OIP metadata, else NHWC). */
  readonly layout?: 'NHWC' | 'NCHW';
  /** Triggers per request (default 25). */
  readonly batchSize?: number;
}

const bad = (m: string) => new VerifyError('VERIFY_REMOTE_BAD_RESPONSE', m);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits a URL into the server base and the model name (OIP or TF Serving paths recognised). */
export function parseEndpoint(s: RemoteSuspect): { base: string; modelName: string } {
  let u: URL;
  try {
    u = new URL(s.url);
  } catch {
    throw new VerifyError('VERIFY_BAD_INPUT', `endpoint ${JSON.stringify(s.url.slice(0, 100))} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new VerifyError('VERIFY_BAD_INPUT', `endpoint must be http(s), got ${u.protocol}`);
  if (!REMOTE_PROTOCOLS.includes(s.protocol)) throw new VerifyError('VERIFY_BAD_INPUT', `protocol must be one of ${REMOTE_PROTOCOLS.join(', ')}`);
  const m = /^(.*?)\/v[12]\/models\/([^/:]+)(?:\/versions\/[^/:]+)?(?:\/infer|:predict)?\/?$/.exec(u.pathname);
  const modelName = s.modelName ?? (m ? decodeURIComponent(m[2]!) : undefined);
  if (!modelName) throw new VerifyError('VERIFY_BAD_INPUT', 'give the served model name (--model-name) or a URL of the form .../v2/models/NAME or .../v1/models/NAME');
  u.pathname = m ? m[1]! : u.pathname.replace(/\/$/, '');
  u.search = '';
  u.hash = '';
  return { base: u.toString().replace(/\/$/, ''), modelName };
}

/** Flattens nested number arrays (row-major), bounded by `max` values. */
export function flattenNumbers(v: unknown, max: number, where: string): number[] {
  const out: number[] = [];
  const walk = (x: unknown, depth: number) => {
    if (depth > 8) throw bad(`${where} is nested too deeply`);
    if (Array.isArray(x)) for (const y of x) walk(y, depth + 1);
    else if (typeof x === 'number' && Number.isFinite(x)) {
      if (out.length >= max) throw bad(`${where} has more than ${max} values`);
      out.push(x);
    } else throw bad(`${where} holds a ${x === null ? 'null' : typeof x}, not a number`);
  };
  walk(v, 0);
  return out;
}

function nestImage(x: Float32Array, dims: number[]): unknown {
  if (dims.length === 1) return Array.from(x);
  const step = x.length / dims[0]!;
  return Array.from({ length: dims[0]! }, (_, i) => nestImage(x.subarray(i * step, (i + 1) * step), dims.slice(1)));
}

/** A classifier that queries a remote endpoint (see above). */
export async function openRemoteClassifier(suspect: RemoteSuspect, options: RemoteOptions = {}): Promise<Classifier & { readonly budget: RequestBudget; readonly url: string }> {
  const { base, modelName } = parseEndpoint(suspect);
  const o = { ...REMOTE_DEFAULTS, ...options };
  const budget = new RequestBudget(o.maxRequests);
  const batchSize = suspect.batchSize ?? 25;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new RangeError(`batch size must be an integer in [1, 10000], got ${batchSize}`);
  const model = encodeURIComponent(modelName);
  let inputName = suspect.inputName;
  let dims: (number | string)[] = [];
  if (suspect.protocol === 'oip-v2' && (inputName === undefined || suspect.layout === undefined)) {
    const meta = await requestJson(`${base}/v2/models/${model}`, { method: 'GET' }, options, budget);
    const inputs = isObj(meta) ? meta.inputs : undefined;
    const first = Array.isArray(inputs) ? inputs[0] : undefined;
    if (!isObj(first) || typeof first.name !== 'string' || first.name.length > 256) throw bad(`${redactUrl(base)} model metadata has no inputs[0].name`);
    inputName ??= first.name;
    if (Array.isArray(first.shape) && first.shape.length <= 8) dims = first.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : '?'));
  }
  const url = suspect.protocol === 'oip-v2' ? `${base}/v2/models/${model}/infer` : `${base}/v1/models/${model}:predict`;

  const queryBatch = async (x: Float32Array, m: number, shape: ImageShape, layout: 'NHWC' | 'NCHW', signal: AbortSignal): Promise<Int32Array> => {
    const [h, w, c] = shape;
    const data = layout === 'NCHW' ? toNchw(x, m, shape) : x;
    const tensorDims = layout === 'NHWC' ? [m, h, w, c] : [m, c, h, w];
    if (suspect.protocol === 'oip-v2') {
      const body = { inputs: [{ name: inputName!, shape: tensorDims, datatype: 'FP32', data: Array.from(data) }] };
      const res = await requestJson(url, { method: 'POST', body }, options, budget, signal);
      const outputs = isObj(res) ? res.outputs : undefined;
      const out = Array.isArray(outputs) ? outputs[0] : undefined;
      if (!isObj(out)) throw bad(`${redactUrl(url)} answer has no outputs[0]`);
      const scores = flattenNumbers(out.data, m * 100_000, `${redactUrl(url)} outputs[0].data`);
      if (Array.isArray(out.shape) && (out.shape[0] !== m || out.shape.reduce((a: number, b: unknown) => a * (typeof b === 'number' ? b : NaN), 1) !== scores.length)) {
        throw bad(`${redactUrl(url)} outputs[0].shape does not fit ${scores.length} values for ${m} triggers`);
      }
      return argmaxRows(scores, m, `${redactUrl(url)} outputs[0]`);
    }
    const instances = Array.from({ length: m }, (_, i) => nestImage(data.subarray(i * h * w * c, (i + 1) * h * w * c), tensorDims.slice(1)));
    const res = await requestJson(url, { method: 'POST', body: { instances } }, options, budget, signal);
    const predictions = isObj(res) ? res.predictions : undefined;
    if (!Array.isArray(predictions) || predictions.length !== m) throw bad(`${redactUrl(url)} answer has no "predictions" array of ${m} rows`);
    const rows = predictions.map((p, i) => {
      // A model with named outputs answers one object per row: take its first field.
      const row = isObj(p) ? Object.values(p)[0] : p;
      return flattenNumbers(row, 100_000, `${redactUrl(url)} predictions[${i}]`);
    });
    const classes = rows[0]!.length;
    if (classes < 2 || rows.some((r) => r.length !== classes)) throw bad(`${redactUrl(url)} predictions rows do not all hold the same number (>= 2) of scores`);
    return argmaxRows(rows.flat(), m, `${redactUrl(url)} predictions`);
  };

  return {
    description: `${suspect.protocol} endpoint ${redactUrl(url)}`,
    budget,
    url: redactUrl(url),
    async classify(images: Float32Array, n: number, shape: ImageShape): Promise<Int32Array> {
      const layout = suspect.layout ?? inputLayout(dims, shape) ?? 'NHWC';
      const size = shape[0] * shape[1] * shape[2];
      const batches = Array.from({ length: Math.ceil(n / batchSize) }, (_, i) => i * batchSize);
      const parts = await mapWithConcurrency(batches, o.concurrency, (from, _i, signal) => {
        const m = Math.min(batchSize, n - from);
        return queryBatch(images.subarray(from * size, (from + m) * size), m, shape, layout, signal);
      });
      const out = new Int32Array(n);
      parts.forEach((p, i) => out.set(p, batches[i]!));
      return out;
    },
    close: async () => undefined,
  };
}
