// Saving and loading TF.js Layers models on disk. @tensorflow/tfjs has no file:// handler without
// tfjs-node, so these write and read the artifacts themselves (same layout as tfjs-node's
// file:// saver: model.json + group1-shard{i}of{n}.bin). tfjs is imported lazily, so importing
// src/formats does not start a TF.js backend.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { readTfjsModel } from './tfjs-layers.js';

type Tf = typeof tfTypes;
type ModelArtifacts = tfTypes.io.ModelArtifacts;

/** Default shard size of the TF.js converters. */
export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

async function loadTf(): Promise<Tf> {
  return (await import('@tensorflow/tfjs')) as unknown as Tf;
}

/** Writes model artifacts as model.json + shards into `dir` (created if needed). Returns model.json's path. */
export async function writeTfjsArtifacts(dir: string, artifacts: ModelArtifacts, shardBytes = DEFAULT_SHARD_BYTES): Promise<string> {
  if (!Number.isSafeInteger(shardBytes) || shardBytes <= 0) throw new RangeError(`shardBytes must be a positive integer, got ${shardBytes}`);
  await mkdir(dir, { recursive: true });
  const wd = artifacts.weightData;
  const data = wd === undefined ? new Uint8Array(0) : Array.isArray(wd) ? Buffer.concat(wd.map((b) => new Uint8Array(b))) : new Uint8Array(wd);
  const n = Math.max(1, Math.ceil(data.byteLength / shardBytes));
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `group1-shard${i + 1}of${n}.bin`;
    await writeFile(join(dir, name), data.subarray(i * shardBytes, Math.min(data.byteLength, (i + 1) * shardBytes)));
    paths.push(name);
  }
  const json: Record<string, unknown> = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
  };
  for (const k of ['trainingConfig', 'signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature'] as const) {
    if (artifacts[k] !== undefined) json[k] = artifacts[k];
  }
  const path = join(dir, 'model.json');
  await writeFile(path, JSON.stringify(json));
  return path;
}

/** Saves a tf.LayersModel to `dir` as model.json + shards. */
export async function saveLayersModel(model: tfTypes.LayersModel, dir: string, shardBytes = DEFAULT_SHARD_BYTES): Promise<string> {
  const tf = await loadTf();
  let path = '';
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      path = await writeTfjsArtifacts(dir, artifacts, shardBytes);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path;
}

/** Reads model.json + shards (checked as readTfjsModel does) into in-memory artifacts for tf.io.fromMemory. */
export async function readTfjsArtifacts(path: string): Promise<ModelArtifacts> {
  const m = await readTfjsModel(path);
  const weightSpecs = m.json.weightsManifest.flatMap((g) => g.weights) as tfTypes.io.WeightsManifestEntry[];
  const weightData = Buffer.concat(m.stored.map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
  const j = m.json as Record<string, unknown>;
  const artifacts: ModelArtifacts = {
    modelTopology: j.modelTopology as ModelArtifacts['modelTopology'],
    weightSpecs,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  };
  for (const k of ['format', 'generatedBy', 'convertedBy', 'trainingConfig', 'signature', 'userDefinedMetadata', 'modelInitializer', 'initializerSignature'] as const) {
    if (j[k] !== undefined && j[k] !== null) (artifacts as Record<string, unknown>)[k] = j[k];
  }
  return artifacts;
}

/** Loads a TF.js Layers model from a folder or a model.json path. */
export async function loadLayersModel(path: string): Promise<tfTypes.LayersModel> {
  const tf = await loadTf();
  return tf.loadLayersModel(tf.io.fromMemory(await readTfjsArtifacts(path)));
}
