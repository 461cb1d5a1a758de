// Model and dataset I/O. Every format reads into and writes from the neutral form
// NamedTensor = { name, dtype, shape, data } (data: the stored little-endian bytes).
// Readers treat files as untrusted: every failure is a FormatError with a code.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FormatError } from './errors.js';
import { readOnnxTensors, writeOnnxTensors } from './onnx.js';
import { readSafetensorsFile, writeSafetensorsFile } from './safetensors.js';
import { type NamedTensor } from './tensor.js';
import { readTfjsModel, writeTfjsTensors } from './tfjs-layers.js';

export { FormatError, type FormatErrorCode } from './errors.js';
export {
  DTYPES, dtypeSize, elementCount, expectedByteLength, isDType, checkTensor, tensorBytes, tensorToFloat32, tensorFromFloat32,
  f16BitsToF32, f32ToF16Bits, bf16BitsToF32, f32ToBf16Bits, type DType, type NamedTensor, type TensorData,
} from './tensor.js';
export { parseSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile, MAX_HEADER_BYTES, type Safetensors } from './safetensors.js';
export { scanOnnx, decodeOnnxModel, readOnnxTensors, writeOnnxTensors, spliceInitializers, type OnnxInitializer, type OnnxScan, type OnnxStorage } from './onnx.js';
export { readTfjsModel, writeTfjsTensors, readModelJson, type TfjsModel, type TfjsManifestGroup, type TfjsWeightSpec } from './tfjs-layers.js';
export { saveLayersModel, loadLayersModel, readTfjsArtifacts, writeTfjsArtifacts, DEFAULT_SHARD_BYTES as TFJS_DEFAULT_SHARD_BYTES } from './tfjs-io.js';
export { digestFile, digestModel, listModelFiles, combineFileDigests, type FileDigest, type ModelDigest } from './digest.js';
export { digestFileSharded, combineShards, SHARDED_ALGORITHM, DEFAULT_SHARD_BYTES, type ShardedDigest } from './digest-sharded.js';
export { buildTensorManifest, proveTensor, verifyTensorProof, tensorLeaf, type TensorLeaf, type TensorManifest } from './tensor-manifest.js';
export {
  buildDatasetManifest, datasetManifestFromLeaves, datasetLeafForFile, proveDatasetFile, verifyDatasetFileProof,
  type DatasetFileLeaf, type DatasetManifest,
} from './dataset-manifest.js';
export { merkleRoot, hashManifestLeaf } from './merkle.js';

export type ModelFormat = 'onnx' | 'safetensors' | 'tfjs-layers';

/** Media types for in-toto resource descriptors. */
export const MEDIA_TYPES: Record<ModelFormat, string> = {
  onnx: 'application/onnx',
  safetensors: 'application/vnd.safetensors',
  'tfjs-layers': 'application/vnd.tensorflowjs.layers-model+json',
};

/**
 * Tells the format of a model path: *.onnx, *.safetensors, model.json (or any *.json with a
 * weightsManifest is read as TF.js), or a folder holding model.json. Returns the path to open.
 */
export async function detectModelFormat(path: string): Promise<{ format: ModelFormat; path: string }> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `${path} not found`, { cause: err });
  }
  if (st.isDirectory()) {
    const json = join(path, 'model.json');
    if (await stat(json).then((s) => s.isFile(), () => false)) return { format: 'tfjs-layers', path: json };
    throw new FormatError('FORMAT_UNKNOWN', `${path} is a folder without model.json; give the model file itself`);
  }
  const name = basename(path).toLowerCase();
  if (name.endsWith('.onnx')) return { format: 'onnx', path };
  if (name.endsWith('.safetensors')) return { format: 'safetensors', path };
  if (name.endsWith('.json')) return { format: 'tfjs-layers', path };
  throw new FormatError('FORMAT_UNKNOWN', `cannot tell the model format of ${basename(path)}: expected .onnx, .safetensors, model.json or a folder with model.json`);
}

/** Reads a model's weights as neutral tensors, whatever its format. */
export async function readModelTensors(path: string): Promise<{ format: ModelFormat; tensors: NamedTensor[] }> {
  const d = await detectModelFormat(path);
  switch (d.format) {
    case 'onnx':
      return { format: d.format, tensors: await readOnnxTensors(d.path) };
    case 'safetensors':
      return { format: d.format, tensors: (await readSafetensorsFile(d.path)).tensors };
    case 'tfjs-layers':
      return { format: d.format, tensors: (await readTfjsModel(d.path)).tensors };
  }
}

/**
 * Writes `dest` as a copy of the model at `src` with the given tensors replaced (same names, dtypes
 * and shapes; tensors not given keep their values). Everything else in the model is kept: ONNX
 * graph and metadata, TF.js model.json, safetensors metadata and tensor order. For TF.js, dest is a
 * folder (or a model.json path). Returns the format.
 */
export async function writeModelTensors(src: string, dest: string, tensors: readonly NamedTensor[]): Promise<ModelFormat> {
  const d = await detectModelFormat(src);
  switch (d.format) {
    case 'onnx':
      await writeOnnxTensors(d.path, dest, tensors);
      break;
    case 'tfjs-layers':
      await writeTfjsTensors(d.path, dest, tensors);
      break;
    case 'safetensors': {
      const old = await readSafetensorsFile(d.path);
      const byName = new Map(tensors.map((t) => [t.name, t]));
      const known = new Set(old.tensors.map((t) => t.name));
      for (const n of byName.keys()) if (!known.has(n)) throw new FormatError('FORMAT_NOT_FOUND', `safetensors: ${src} has no tensor named ${n}`);
      const merged = old.tensors.map((o) => {
        const t = byName.get(o.name);
        if (!t) return o;
        if (t.dtype !== o.dtype || t.shape.length !== o.shape.length || t.shape.some((x, i) => x !== o.shape[i])) {
          throw new FormatError('FORMAT_SHAPE_MISMATCH', `safetensors: tensor ${o.name} is ${o.dtype}[${o.shape.join(', ')}], the replacement is ${t.dtype}[${t.shape.join(', ')}]`);
        }
        return t;
      });
      await writeSafetensorsFile(dest, merged, old.metadata);
      break;
    }
  }
  return d.format;
}
