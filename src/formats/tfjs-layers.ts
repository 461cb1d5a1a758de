// TF.js Layers models: model.json (topology + weightsManifest) and binary weight shards. The
// weights of a manifest group are the concatenation of its shards, laid out in manifest order
// (https://www.tensorflow.org/js/guide/save_load). Writing keeps model.json byte for byte and
// rewrites only shard contents, so the topology cannot change.
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FormatError } from './errors.js';
import { readWholeFile } from './read-file.js';
import { resolveExistingInside, resolveInside } from './safe-path.js';
import { checkTensor, expectedByteLength, tensorBytes, tensorToFloat32, type DType, type NamedTensor } from './tensor.js';

/** model.json is topology and a manifest; a real one is kilobytes to a few megabytes. */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}
export interface TfjsManifestGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}
export interface TfjsModel {
  /** Path of model.json. */
  readonly jsonPath: string;
  /** model.json exactly as read. */
  readonly jsonBytes: Uint8Array;
  readonly json: Record<string, unknown> & { weightsManifest: TfjsManifestGroup[] };
  /** Weights as read: dequantized where uint8/uint16-quantized. */
  readonly tensors: NamedTensor[];
  /** Weights as stored in the shards (quantized bytes), same order. */
  readonly stored: NamedTensor[];
}

const fail = (code: ConstructorParameters<typeof FormatError>[0], msg: string): never => {
  throw new FormatError(code, `tfjs: ${msg}`);
};

/** model.json for a directory or a path to model.json. */
export async function modelJsonPath(path: string): Promise<string> {
  try {
    return (await stat(path)).isDirectory() ? join(path, 'model.json') : path;
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `tfjs: ${path} not found`, { cause: err });
  }
}

/**
 * How a weight is stored and how we read it. float32/int32/bool are read as stored; float16
 * quantization is read as F16 (a float dtype, nothing lost); uint8/uint16 affine quantization
 * (value = q * scale + min, tfjs-converter --quantize_uint8/uint16) is dequantized to F32 on read
 * and quantized back with the same scale and min on write.
 */
export interface WeightStorage {
  readonly read: DType;
  readonly stored: DType;
  readonly affine?: { readonly scale: number; readonly min: number; readonly max: number };
}

export function storageOfSpec(w: TfjsWeightSpec): WeightStorage {
  const q = w.quantization;
  if (q !== undefined) {
    if (q === null || typeof q !== 'object') return fail('FORMAT_CORRUPT', `weight ${w.name} has a quantization that is not an object`);
    if (q.dtype === 'float16') return { read: 'F16', stored: 'F16' };
    if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      const { scale, min } = q;
      if (typeof scale !== 'number' || typeof min !== 'number' || !Number.isFinite(scale) || !Number.isFinite(min) || scale < 0) {
        return fail('FORMAT_CORRUPT', `weight ${w.name} has ${q.dtype} quantization without a finite scale >= 0 and min`);
      }
      // tfjs-converter quantizes int32 constants too (SSD's shape constants); they read back rounded.
      if (w.dtype !== 'float32' && w.dtype !== 'int32') return fail('FORMAT_UNSUPPORTED', `weight ${w.name} is ${String(w.dtype).slice(0, 20)} with ${q.dtype} quantization; we read quantized float32 and int32 weights`);
      return { read: w.dtype === 'int32' ? 'I32' : 'F32', stored: q.dtype === 'uint8' ? 'U8' : 'U16', affine: { scale, min, max: q.dtype === 'uint8' ? 255 : 65535 } };
    }
    return fail('FORMAT_UNSUPPORTED', `weight ${w.name} uses ${String(q.dtype).slice(0, 20)} quantization, which we do not read`);
  }
  const d = ({ float32: 'F32', int32: 'I32', bool: 'BOOL' } as const)[w.dtype as 'float32'];
  return d ? { read: d, stored: d } : fail('FORMAT_UNSUPPORTED', `weight ${w.name} has dtype ${String(w.dtype).slice(0, 20)}, which we do not read`);
}

/** The dtype a weight is read as (see storageOfSpec). */
export function dtypeOfSpec(w: TfjsWeightSpec): DType {
  return storageOfSpec(w).read;
}

function dequantizeAffine(bytes: Uint8Array, s: WeightStorage): Uint8Array {
  const q = s.stored === 'U8' ? bytes : new Uint16Array(bytes.slice().buffer);
  const out = s.read === 'I32' ? new Int32Array(q.length) : new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = s.read === 'I32' ? Math.round(q[i]! * s.affine!.scale + s.affine!.min) : q[i]! * s.affine!.scale + s.affine!.min;
  return new Uint8Array(out.buffer);
}

function quantizeAffine(t: NamedTensor, s: WeightStorage): Uint8Array {
  const v = tensorToFloat32(t);
  const { scale, min, max } = s.affine!;
  const q = s.stored === 'U8' ? new Uint8Array(v.length) : new Uint16Array(v.length);
  for (let i = 0; i < v.length; i++) q[i] = scale === 0 ? 0 : Math.min(max, Math.max(0, Math.round((v[i]! - min) / scale)));
  return new Uint8Array(q.buffer, q.byteOffset, q.byteLength);
}

function parseManifest(json: Record<string, unknown>): TfjsManifestGroup[] {
  const m = json.weightsManifest;
  if (!Array.isArray(m)) fail('FORMAT_CORRUPT', 'model.json has no weightsManifest array');
  return (m as unknown[]).map((g, gi) => {
    const { paths, weights } = (g ?? {}) as Record<string, unknown>;
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) fail('FORMAT_CORRUPT', `weightsManifest[${gi}].paths is not a list of strings`);
    if (!Array.isArray(weights)) fail('FORMAT_CORRUPT', `weightsManifest[${gi}].weights is not a list`);
    for (const w of weights as unknown[]) {
      const spec = (w ?? {}) as Record<string, unknown>;
      if (typeof spec.name !== 'string' || !Array.isArray(spec.shape) || typeof spec.dtype !== 'string') {
        fail('FORMAT_CORRUPT', `weightsManifest[${gi}] has a weight without name, shape or dtype`);
      }
    }
    return { paths: paths as string[], weights: weights as TfjsWeightSpec[] };
  });
}

export async function readModelJson(path: string): Promise<{ jsonPath: string; jsonBytes: Uint8Array; json: TfjsModel['json'] }> {
  const jsonPath = await modelJsonPath(path);
  const jsonBytes = await readWholeFile(jsonPath, MAX_MODEL_JSON_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(jsonBytes));
  } catch (err) {
    fail('FORMAT_CORRUPT', `${jsonPath} is not JSON (${(err as Error).message.slice(0, 100)})`);
  }
  // A bare array is a weights manifest on its own (tfjs weights_manifest.json; face-api ships these).
  if (Array.isArray(json)) return { jsonPath, jsonBytes, json: { weightsManifest: parseManifest({ weightsManifest: json }) } };
  if (json === null || typeof json !== 'object') fail('FORMAT_CORRUPT', `${jsonPath} is not a JSON object`);
  const obj = json as Record<string, unknown>;
  if (obj.modelTopology === undefined || obj.modelTopology === null || typeof obj.modelTopology !== 'object') {
    fail('FORMAT_CORRUPT', `${jsonPath} has no modelTopology (is it a TF.js model?)`);
  }
  return { jsonPath, jsonBytes, json: { ...obj, weightsManifest: parseManifest(obj) } };
}

/** Reads model.json and its shards; checks paths, byte totals, and every weight's size. */
export async function readTfjsModel(path: string): Promise<TfjsModel> {
  const { jsonPath, jsonBytes, json } = await readModelJson(path);
  const dir = dirname(resolve(jsonPath));
  const tensors: NamedTensor[] = [];
  const stored: NamedTensor[] = [];
  for (const [gi, group] of json.weightsManifest.entries()) {
    const storage = group.weights.map(storageOfSpec);
    const sizes = group.weights.map((w, i) => expectedByteLength(storage[i]!.stored, w.shape, `tfjs: weight ${w.name}`));
    const want = sizes.reduce((a, b) => a + b, 0);
    const files = await Promise.all(group.paths.map((p) => resolveExistingInside(dir, p, 'tfjs: weight shard')));
    let have = 0;
    for (const f of files) have += (await stat(f)).size;
    if (have !== want) {
      fail(have < want ? 'FORMAT_TRUNCATED' : 'FORMAT_SHAPE_MISMATCH', `group ${gi} shards hold ${have} bytes, its weights need ${want}`);
    }
    const data = new Uint8Array(want);
    let pos = 0;
    for (const f of files) {
      const b = await readWholeFile(f);
      if (pos + b.byteLength > want) fail('FORMAT_TRUNCATED', `shard ${f} changed while being read`);
      data.set(b, pos);
      pos += b.byteLength;
    }
    pos = 0;
    group.weights.forEach((w, i) => {
      const s = storage[i]!;
      const raw = data.subarray(pos, pos + sizes[i]!);
      stored.push({ name: w.name, dtype: s.stored, shape: w.shape, data: raw });
      tensors.push({ name: w.name, dtype: s.read, shape: w.shape, data: s.affine ? dequantizeAffine(raw, s) : raw });
      pos += sizes[i]!;
    });
  }
  return { jsonPath, jsonBytes, json, tensors, stored };
}

/**
 * Writes the model at `src` to `dest` (a folder, or a path ending in .json) with the named weights
 * replaced. Replacements must have the stored dtype and shape. model.json is copied byte for byte;
 * shards keep their names and sizes.
 */
export async function writeTfjsTensors(src: string, dest: string, replacements: readonly NamedTensor[]): Promise<string> {
  const model = await readTfjsModel(src);
  const byName = new Map<string, NamedTensor>();
  for (const t of replacements) {
    checkTensor(t);
    byName.set(t.name, t);
  }
  const known = new Map(model.tensors.map((t) => [t.name, t]));
  for (const [name, t] of byName) {
    const old = known.get(name) ?? fail('FORMAT_NOT_FOUND', `${model.jsonPath} has no weight named ${name}`);
    if (old.dtype !== t.dtype || old.shape.length !== t.shape.length || old.shape.some((d, k) => d !== t.shape[k])) {
      fail('FORMAT_SHAPE_MISMATCH', `weight ${name} is ${old.dtype}[${old.shape.join(', ')}], the replacement is ${t.dtype}[${t.shape.join(', ')}]`);
    }
  }
  const destJson = dest.endsWith('.json') ? resolve(dest) : join(resolve(dest), 'model.json');
  const destDir = dirname(destJson);
  await mkdir(destDir, { recursive: true });
  let ti = 0;
  for (const group of model.json.weightsManifest) {
    const parts = group.weights.map((w) => {
      const i = ti++;
      const t = byName.get(model.tensors[i]!.name);
      if (!t) return tensorBytes(model.stored[i]!);
      const s = storageOfSpec(w);
      return s.affine ? quantizeAffine(t, s) : tensorBytes(t);
    });
    const data = Buffer.concat(parts);
    // Same shard boundaries as the source, so the manifest stays valid.
    const srcDir = dirname(resolve(model.jsonPath));
    let pos = 0;
    for (const p of group.paths) {
      const size = (await stat(await resolveExistingInside(srcDir, p, 'tfjs: weight shard'))).size;
      const out = resolveInside(destDir, p, 'tfjs: weight shard');
      await mkdir(dirname(out), { recursive: true });
      await writeFile(out, data.subarray(pos, pos + size));
      pos += size;
    }
  }
  await writeFile(destJson, model.jsonBytes);
  return destJson;
}
