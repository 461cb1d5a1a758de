// Model and dataset I/O. Every format reads into and writes from the neutral form
// NamedTensor = { name, dtype, shape, data } (data: the stored little-endian bytes).
// Readers treat files as untrusted: every failure is a FormatError with a code.
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FormatError } from './errors.js';
import { readOnnxTensors, writeOnnxTensors } from './onnx.js';
import { readSafetensorsFile, writeSafetensorsFile } from './safetensors.js';
import { type NamedTensor } from './tensor.js';
import { readShardedSafetensors, writeShardedSafetensors, isShardedIndex } from './safetensors-sharded.js';
import { readModelJson, readTfjsModel, writeTfjsTensors } from './tfjs-layers.js';

export { FormatError, type FormatErrorCode } from './errors.js';
export {
  DTYPES, dtypeSize, elementCount, expectedByteLength, isDType, checkTensor, tensorBytes, tensorToFloat32, tensorFromFloat32,
  f16BitsToF32, f32ToF16Bits, bf16BitsToF32, f32ToBf16Bits, type DType, type NamedTensor, type TensorData,
} from './tensor.js';
export { parseSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile, MAX_HEADER_BYTES, type Safetensors } from './safetensors.js';
export { scanOnnx, decodeOnnxModel, readOnnxTensors, writeOnnxTensors, initializerBytes, type OnnxInitializer, type OnnxScan, type OnnxStorage, type OnnxNodeInfo, type OnnxTensorLocation } from './onnx.js';
export { readShardedSafetensors, writeShardedSafetensors, isShardedIndex, INDEX_SUFFIX, type ShardedSafetensors } from './safetensors-sharded.js';
export { readSafetensorsLayout, type SafetensorsLayout } from './safetensors.js';
export { recurrentInputWeights, type RecurrentInputWeight } from './onnx-recurrent.js';
export { walkOnnx, spliceFields, MAX_GRAPH_DEPTH, type OnnxSite, type OnnxWalk } from './onnx-walk.js';
export { readTfjsModel, writeTfjsTensors, readModelJson, storageOfSpec, type WeightStorage, type TfjsModel, type TfjsManifestGroup, type TfjsWeightSpec } from './tfjs-layers.js';
export { saveLayersModel, loadLayersModel, readTfjsArtifacts, writeTfjsArtifacts, DEFAULT_SHARD_BYTES as TFJS_DEFAULT_SHARD_BYTES } from './tfjs-io.js';
export { digestFile, digestModel, listModelFiles, combineFileDigests, type FileDigest, type ModelDigest } from './digest.js';
export { digestFileSharded, combineShards, SHARDED_ALGORITHM, DEFAULT_SHARD_BYTES, type ShardedDigest } from './digest-sharded.js';
export { buildTensorManifest, proveTensor, verifyTensorProof, tensorLeaf, type TensorLeaf, type TensorManifest } from './tensor-manifest.js';
export {
  buildDatasetManifest, datasetManifestFromLeaves, datasetLeafForFile, proveDatasetFile, verifyDatasetFileProof,
  type DatasetFileLeaf, type DatasetManifest,
} from './dataset-manifest.js';
export { merkleRoot, hashManifestLeaf } from './merkle.js';

/** tfjs-graph: a TF.js Graph model ("format": "graph-model"); tfjs-weights: a bare weights manifest (a JSON array, no topology). */
export type ModelFormat = 'onnx' | 'safetensors' | 'tfjs-layers' | 'tfjs-graph' | 'tfjs-weights';

/** Media types for in-toto resource descriptors. */
export const MEDIA_TYPES: Record<ModelFormat, string> = {
  onnx: 'application/onnx',
  safetensors: 'application/vnd.safetensors',
  'tfjs-layers': 'application/vnd.tensorflowjs.layers-model+json',
  'tfjs-graph': 'application/vnd.tensorflowjs.graph-model+json',
  'tfjs-weights': 'application/vnd.tensorflowjs.weights-manifest+json',
};

const TFJS_FORMATS: readonly ModelFormat[] = ['tfjs-layers', 'tfjs-graph', 'tfjs-weights'];
export const isTfjsFormat = (f: ModelFormat) => TFJS_FORMATS.includes(f);

/** Which TF.js kind a model.json (or weights manifest) is. */
async function tfjsKind(path: string): Promise<ModelFormat> {
  const { json } = await readModelJson(path);
  if (json.modelTopology === undefined) return 'tfjs-weights';
  const topo = json.modelTopology as Record<string, unknown>;
  return json.format === 'graph-model' || Array.isArray(topo.node) ? 'tfjs-graph' : 'tfjs-layers';
}

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
    const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);
    const json = join(path, 'model.json');
    if (await isFile(json)) return { format: await tfjsKind(json), path: json };
    const index = join(path, 'model.safetensors.index.json');
    if (await isFile(index)) return { format: 'safetensors', path: index };
    throw new FormatError('FORMAT_UNKNOWN', `${path} is a folder without model.json or model.safetensors.index.json; give the model file itself`);
  }
  const name = basename(path).toLowerCase();
  if (name.endsWith('.onnx')) return { format: 'onnx', path };
  if (name.endsWith('.safetensors') || isShardedIndex(name)) return { format: 'safetensors', path };
  if (name.endsWith('.json')) return { format: await tfjsKind(path), path };
  throw new FormatError('FORMAT_UNKNOWN', `cannot tell the model format of ${basename(path)}: expected .onnx, .safetensors, .safetensors.index.json, model.json (TF.js Layers or Graph), a weights manifest .json, or a folder with model.json`);
}

/** Reads a model's weights as neutral tensors, whatever its format. */
export async function readModelTensors(path: string): Promise<{ format: ModelFormat; tensors: NamedTensor[] }> {
  const d = await detectModelFormat(path);
  switch (d.format) {
    case 'onnx':
      return { format: d.format, tensors: await readOnnxTensors(d.path) };
    case 'safetensors':
      if (isShardedIndex(d.path)) return { format: d.format, tensors: (await readShardedSafetensors(d.path)).tensors };
      return { format: d.format, tensors: (await readSafetensorsFile(d.path)).tensors };
    default:
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
    case 'tfjs-graph':
    case 'tfjs-weights':
      await writeTfjsTensors(d.path, dest, tensors);
      break;
    case 'safetensors': {
      if (isShardedIndex(d.path)) {
        await writeShardedSafetensors(d.path, dest, tensors);
        break;
      }
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
