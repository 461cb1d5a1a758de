// A recurrent layer's input weight stacks one block of rows per gate (LSTM: 4, GRU: 3), and the
// gates do not matter alike: on silero VAD, the same change moves the speech probability 3x more
// through the cell candidate than through the forget gate. The mark constrains only the mean over
// rows, so its change may be shared between the gates in any proportion. Each gate's effect is
// measured (the whole change placed on its rows, run on calibration inputs: the RMS change of the
// answers), and the change is
// spread in inverse proportion to the square of it, the spread that minimises the expected change
// of the answers when the gates' effects add independently.
import { addOverOutputChannels, channelWeightsByScale, kernelGeometry, type KernelLayout } from '../core/index.js';

export interface GateSpread {
  /** Per output row, mean 1: the share of the mark's change each row takes. */
  readonly channelWeights: Float64Array;
  /** Each gate's measured effect (RMS change of the answers with the whole change on it). */
  readonly effects: readonly number[];
  /** Each gate's share of the change (mean 1 over gates). */
  readonly shares: readonly number[];
}

/**
 * The gate spread for `kernel` (rows = `gates` equal blocks), from the mark's change `delta`
 * (per input feature, before spreading) and `measure`, the RMS change of the answers for a
 * candidate kernel. Undefined when the rows do not split into gates, or when a gate moves nothing
 * (its effect is then unmeasured on these inputs, not nil: the change must not pile up there).
 */
export async function spreadOverGates(kernel: Float32Array, shape: readonly number[], layout: KernelLayout, gates: number, delta: Float64Array, measure: (k: Float32Array) => Promise<number>): Promise<GateSpread | undefined> {
  const g = kernelGeometry(shape, layout);
  if (gates < 2 || g.outputs % gates !== 0) return undefined;
  const per = g.outputs / gates;
  const effects: number[] = [];
  for (let gate = 0; gate < gates; gate++) {
    const only = new Float64Array(g.outputs);
    only.fill(gates, gate * per, (gate + 1) * per);
    effects.push(await measure(addOverOutputChannels(kernel, shape, layout, delta, only)));
  }
  if (!effects.every((e) => e > 0 && Number.isFinite(e))) return undefined;
  const inverse = effects.map((e) => 1 / (e * e));
  const total = inverse.reduce((a, b) => a + b, 0);
  const shares = inverse.map((v) => (gates * v) / total);
  // Within a gate, rows share as before: in proportion to their own scale.
  const scale = channelWeightsByScale(kernel, shape, layout);
  const channelWeights = new Float64Array(g.outputs);
  for (let gate = 0; gate < gates; gate++) {
    let mean = 0;
    for (let r = gate * per; r < (gate + 1) * per; r++) mean += scale[r]! / per;
    for (let r = gate * per; r < (gate + 1) * per; r++) channelWeights[r] = shares[gate]! * (mean > 0 ? scale[r]! / mean : 1);
  }
  return { channelWeights, effects, shares };
}
