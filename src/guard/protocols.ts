// The two REST protocols the guard speaks, parsed strictly: a request that does not fit the
// served model (name, datatype, shape, batch, values) is a GUARD_BAD_REQUEST and never reaches it.
//
// Open Inference Protocol v2 (KServe "V2", Triton), https://kserve.github.io/website/ (predict-api/v2):
//   POST /v2/models/{name}[/versions/{v}]/infer
//     { id?, parameters?, inputs: [{ name, shape, datatype, data, parameters? }], outputs? }
//   -> { model_name, model_version, id?, outputs: [{ name, shape, datatype, data }] }
//   errors: { "error": "<message>" }
// TensorFlow Serving REST, https://www.tensorflow.org/tfx/serving/api_rest:
//   POST /v1/models/{name}[/versions/{v}]:predict
//     { signature_name?, instances: [ <one input>, ... ] }  (row format)
//   or { signature_name?, inputs: <batched tensor> }         (columnar, one input)
//   -> { predictions: [ [scores], ... ] }    errors: { "error": "<message>" }
import { GuardError } from './errors.js';

export interface ParsedBatch {
  readonly x: Float32Array;
  readonly n: number;
  /** OIP request id, echoed back. */
  readonly id?: string;
}

export interface InputSpec {
  readonly inputName: string;
  readonly dims: readonly number[];
  readonly maxBatch: number;
}

const bad = (m: string) => new GuardError('GUARD_BAD_REQUEST', m);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Writes nested or flat finite numbers into `out` (exactly out.length of them). */
function fill(v: unknown, out: Float32Array, where: string): void {
  if (Array.isArray(v) && v.length === out.length && fillFlat(v, out)) return;
  let k = 0;
  const walk = (x: unknown, depth: number) => {
    if (depth > 8) throw bad(`${where} is nested too deeply`);
    if (Array.isArray(x)) {
      for (const y of x) walk(y, depth + 1);
      return;
    }
    if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(`${where} holds ${x === null ? 'null' : typeof x === 'number' ? 'a non-finite number' : `a ${typeof x}`}; expected finite numbers`);
    if (k >= out.length) throw bad(`${where} holds more than the ${out.length} values its shape calls for`);
    out[k++] = x;
  };
  walk(v, 0);
  if (k !== out.length) throw bad(`${where} holds ${k} values; its shape calls for ${out.length}`);
}

/** The common flat form, in one loop; false (out partly written) when any value is not a finite number. */
function fillFlat(v: readonly unknown[], out: Float32Array): boolean {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return false;
    out[i] = x;
  }
  return true;
}

const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

function checkBatch(n: number, spec: InputSpec): void {
  if (!Number.isSafeInteger(n) || n < 1) throw bad('the batch must hold at least one input');
  if (n > spec.maxBatch) throw new GuardError('GUARD_TOO_LARGE', `batch of ${n} inputs is larger than the ${spec.maxBatch} allowed`);
}

export function parseOipRequest(body: unknown, spec: InputSpec): ParsedBatch {
  if (!isObj(body)) throw bad('the request body must be a JSON object with "inputs"');
  if (body.id !== undefined && (typeof body.id !== 'string' || body.id.length > 256)) throw bad('"id" must be a string of at most 256 characters');
  if (!Array.isArray(body.inputs) || body.inputs.length !== 1) throw bad(`"inputs" must be an array of exactly one tensor (the model's input "${spec.inputName}")`);
  const t = body.inputs[0];
  if (!isObj(t)) throw bad('inputs[0] must be an object { name, shape, datatype, data }');
  if (t.name !== spec.inputName) throw bad(`unexpected input name; the model's input is "${spec.inputName}"`);
  if (t.datatype !== 'FP32' && t.datatype !== 'FP64') throw bad('inputs[0].datatype must be "FP32" (or "FP64")');
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== spec.dims.length + 1 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw bad(`inputs[0].shape must be [batch, ${spec.dims.join(', ')}]`);
  }
  const n = shape[0] as number;
  checkBatch(n, spec);
  if (shape.slice(1).some((d, i) => d !== spec.dims[i])) throw bad(`inputs[0].shape must be [batch, ${spec.dims.join(', ')}]`);
  if (Array.isArray(body.outputs) && body.outputs.length > 8) throw bad('"outputs" names at most a few outputs');
  const x = new Float32Array(n * size(spec.dims));
  fill(t.data, x, 'inputs[0].data');
  return { x, n, ...(typeof body.id === 'string' ? { id: body.id } : {}) };
}

export function formatOipResponse(modelName: string, outputName: string, scores: Float32Array, n: number, id?: string): unknown {
  return { model_name: modelName, model_version: '1', ...(id === undefined ? {} : { id }), outputs: [{ name: outputName, datatype: 'FP32', shape: [n, scores.length / n], data: Array.from(scores) }] };
}

export function parseTfServingRequest(body: unknown, spec: InputSpec): ParsedBatch {
  if (!isObj(body)) throw bad('the request body must be a JSON object with "instances" or "inputs"');
  if (body.signature_name !== undefined && body.signature_name !== 'serving_default') throw bad('only signature_name "serving_default" is served');
  const hasInstances = body.instances !== undefined;
  if (hasInstances === (body.inputs !== undefined)) throw bad('give exactly one of "instances" (row format) or "inputs" (columnar format)');
  let rows = hasInstances ? body.instances : body.inputs;
  if (isObj(rows)) {
    // Named-input forms: { instances: [{ name: tensor }] } or { inputs: { name: tensor } }.
    const v = rows[spec.inputName];
    if (v === undefined || Object.keys(rows).length !== 1) throw bad(`expected the single input "${spec.inputName}"`);
    rows = v;
  }
  if (!Array.isArray(rows)) throw bad(`"${hasInstances ? 'instances' : 'inputs'}" must be a list with one entry per input`);
  if (hasInstances) rows = (rows as unknown[]).map((r) => (isObj(r) && Object.keys(r).length === 1 && spec.inputName in r ? r[spec.inputName] : r));
  const n = (rows as unknown[]).length;
  checkBatch(n, spec);
  const per = size(spec.dims);
  const x = new Float32Array(n * per);
  (rows as unknown[]).forEach((r, i) => fill(r, x.subarray(i * per, (i + 1) * per), `instance ${i}`));
  return { x, n };
}

export function formatTfServingResponse(scores: Float32Array, n: number): unknown {
  const c = scores.length / n;
  return { predictions: Array.from({ length: n }, (_, i) => Array.from(scores.subarray(i * c, (i + 1) * c))) };
}
