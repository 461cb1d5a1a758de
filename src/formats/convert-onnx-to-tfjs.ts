/**
 * ONNX -> TF.js Layers (a functional Model) for the graphs our exporter writes and the usual
 * equivalents from other exporters: PyTorch-style NCHW inputs, Gemm with transB/alpha/beta,
 * MatMul + Add, Flatten or Reshape, explicit or automatic pads. The TF.js model takes the same
 * input tensors as the ONNX model (dim 0 is the batch, whatever the file says about it).
 * See convert-onnx-import.ts for how layouts are tracked. Write the result with
 * writeTfjsArtifacts (tfjs-io.ts) or load it with tf.io.fromMemory.
 */
import { readOnnxGraph } from './convert-onnx-graph.js';
import { corrupt, identity, Importer, unsupported } from './convert-onnx-import.js';
import { importNode, ONNX_OPS_SUPPORTED } from './convert-onnx-ops.js';
import type { OnnxGraphView } from './convert-onnx-graph.js';
import { FormatError } from './errors.js';

export { ONNX_OPS_SUPPORTED } from './convert-onnx-ops.js';

/** TF.js ModelArtifacts: what tf.io.fromMemory takes, and what model.json plus one shard hold. */
export interface TfjsArtifacts {
  readonly format: 'layers-model';
  readonly generatedBy: string;
  readonly convertedBy: string;
  readonly modelTopology: Record<string, unknown>;
  readonly weightSpecs: { name: string; shape: number[]; dtype: 'float32' }[];
  readonly weightData: ArrayBuffer;
}

const KERAS_VERSION = 'tfjs-layers 4.22.0';

export function convertOnnxToTfjs(onnxBytes: Uint8Array): TfjsArtifacts {
  const g = readOnnxGraph(onnxBytes);
  if (g.inputs.length === 0) throw corrupt('the graph has no inputs');
  if (g.outputs.length === 0) throw corrupt('the graph has no outputs');
  refuseUnsupportedOps(g);
  const im = new Importer(g);
  const inputLayers: string[] = [];
  for (const i of g.inputs) {
    if (i.problem) throw unsupported(i.problem.replace(/^onnx: /, ''));
    if (i.dims.length < 2 || i.dims.length > 6) throw unsupported(`input ${i.name} has rank ${i.dims.length}; ranks 2 to 6 are supported`);
    const rest = i.dims.slice(1);
    if (rest.some((d) => d === null)) throw unsupported(`input ${i.name} has shape [${i.dims.map((d) => d ?? '?').join(',')}]; every dim but the batch must be fixed`);
    const layer = im.addLayer('InputLayer', i.name, { batch_input_shape: [null, ...rest], dtype: 'float32', sparse: false }, []);
    inputLayers.push(layer);
    im.set(i.name, { layer, perm: identity(i.dims.length), dims: [-1, ...(rest as number[])] });
  }
  for (const n of g.nodes) importNode(im, n);
  const outputLayers = g.outputs.map((o) => {
    const v = im.val(o, { opType: 'output', name: o, inputs: [], outputs: [], attrs: new Map() });
    return im.view(v, identity(v.dims.length), { opType: 'output', name: o, inputs: [], outputs: [], attrs: new Map() });
  });
  return toArtifacts(im, g.name, inputLayers, outputLayers);
}

function toArtifacts(im: Importer, name: string, inputs: string[], outputs: string[]): TfjsArtifacts {
  const layers = im.layers.map((l) => ({
    name: l.name,
    class_name: l.className,
    config: { ...l.config, name: l.name, trainable: true },
    inbound_nodes: l.inputs.length ? [l.inputs.map((i) => [i, 0, 0, {}])] : [],
  }));
  const modelTopology = {
    class_name: 'Model',
    config: { name: name.replace(/[^A-Za-z0-9_.-]/g, '_') || 'model', layers, input_layers: inputs.map((i) => [i, 0, 0]), output_layers: outputs.map((o) => [o, 0, 0]) },
    keras_version: KERAS_VERSION,
    backend: 'tensor_flow.js',
  };
  const total = im.weights.reduce((a, w) => a + w.values.length, 0);
  const data = new Float32Array(total);
  let pos = 0;
  for (const w of im.weights) {
    data.set(w.values, pos);
    pos += w.values.length;
  }
  return {
    format: 'layers-model',
    generatedBy: 'hallmark',
    convertedBy: 'hallmark onnx->tfjs',
    modelTopology,
    weightSpecs: im.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' as const })),
    weightData: data.buffer,
  };
}

/**
 * Refuses a graph with ops the converter lacks, naming every one with its count in one line,
 * most frequent first, before any is converted:
 *   FORMAT_UNSUPPORTED onnx: 3 op types the converter does not support: If x2, LSTM x1, com.microsoft.FusedConv x1
 */
export function refuseUnsupportedOps(g: OnnxGraphView): void {
  const known = new Set<string>(ONNX_OPS_SUPPORTED);
  const counts = new Map<string, number>();
  for (const n of g.nodes) if (!known.has(n.opType)) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  if (counts.size === 0) return;
  const list = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([op, k]) => `${op} x${k}`);
  throw new FormatError('FORMAT_UNSUPPORTED', `onnx: ${counts.size} op type${counts.size > 1 ? 's' : ''} the converter does not support: ${list.join(', ')}`);
}
