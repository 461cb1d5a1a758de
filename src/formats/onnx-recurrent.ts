// The input weights of recurrent layers (ONNX LSTM, GRU, RNN), wherever the exporter keeps them.
// ONNX wants W as [directions, gates x hidden, input]. PyTorch's exporter often stores each
// weight as PyTorch has it, a 2-D [gates x hidden, input] matrix, which reaches W through Slice
// (the rows of one gate), Concat on axis 0 (PyTorch's gate order i, f, g, o reordered into
// ONNX's i, o, f, c) and Unsqueeze (the directions axis); silero VAD does this once per LSTM node.
// Rows stay output units through that chain, so the stored matrix is a dense kernel in OI layout,
// and the activations it multiplies are the recurrent node's X.
//
// Only W is offered, not the recurrence R: R multiplies the hidden state, which is zero on a
// stream's first chunk, so calibration inputs from a fresh state would measure a change to R as
// harmless while it moves every later chunk.
import type { OnnxNodeInfo } from './onnx.js';

const GATES: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1 };
/** Ops that keep rows as output units when the weight flows through them (Concat only on axis 0). */
const ROW_KEEPING = new Set(['Slice', 'Concat', 'Unsqueeze', 'Identity']);
const MAX_CHAIN = 8;

export interface RecurrentInputWeight {
  /** The recurrent nodes (LSTM, GRU or RNN) whose W the weight becomes: more than one when the
   *  branches of a nested If share a weight of the enclosing graph (silero's decoder). */
  readonly nodes: readonly OnnxNodeInfo[];
  /** Rows the weight must have: gates x hidden_size. */
  readonly rows: number;
  /** Gates of the node (LSTM 4, GRU 3, RNN 1): blocks of rows of the weight. */
  readonly gates: number;
}

/**
 * Weight name -> the recurrent node whose input weight W it is, for weights that reach W through
 * row-keeping ops only (or directly). A chain through any other op (Transpose, MatMul, a Concat
 * on another axis) is not followed: the rows could then be something else than output units.
 */
export function recurrentInputWeights(nodes: readonly OnnxNodeInfo[]): Map<string, RecurrentInputWeight> {
  const producer = new Map<string, OnnxNodeInfo>();
  for (const n of nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const out = new Map<string, RecurrentInputWeight>();
  for (const n of nodes) {
    const gates = GATES[n.opType];
    const hidden = n.ints.get('hidden_size');
    if (!gates || !hidden || !n.inputs[1]) continue;
    const sources = new Set<string>();
    if (!traceRows(n.inputs[1], producer, sources, 0, new Map())) continue;
    for (const s of sources) {
      const seen = out.get(s);
      if (seen && seen.rows !== gates * hidden) out.delete(s); // one weight, two readings: leave it alone
      else out.set(s, { nodes: [...(seen?.nodes ?? []), n], rows: gates * hidden, gates });
    }
  }
  return out;
}

/**
 * Adds the stored tensors behind `value` to `sources`; false when a step is not row-keeping.
 * Each value is traced once (`seen`): a hostile graph whose Concats take the same value many times
 * over, level after level, would otherwise cost (inputs per Concat) ^ MAX_CHAIN steps.
 */
function traceRows(value: string, producer: ReadonlyMap<string, OnnxNodeInfo>, sources: Set<string>, depth: number, seen: Map<string, boolean>): boolean {
  const known = seen.get(value);
  if (known !== undefined) return known;
  seen.set(value, false); // a cycle back to a value being traced is not row-keeping
  const ok = traceStep(value, producer, sources, depth, seen);
  seen.set(value, ok);
  return ok;
}

function traceStep(value: string, producer: ReadonlyMap<string, OnnxNodeInfo>, sources: Set<string>, depth: number, seen: Map<string, boolean>): boolean {
  const p = producer.get(value);
  if (!p || p.opType === 'Constant') {
    sources.add(value);
    return true;
  }
  if (depth >= MAX_CHAIN || !ROW_KEEPING.has(p.opType)) return false;
  if (p.opType === 'Concat') {
    if ((p.ints.get('axis') ?? -1) !== 0) return false;
    return p.inputs.every((i) => traceRows(i, producer, sources, depth + 1, seen));
  }
  // Slice, Unsqueeze, Identity: the data is input 0; the others are starts, ends, axes, steps.
  return traceRows(p.inputs[0] ?? '', producer, sources, depth + 1, seen);
}
