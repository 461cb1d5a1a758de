// Key-derived synthetic audio for calibrating audio models (silero VAD and the like): white noise
// in [0, 1) or [-1, 1) is not what such a model hears, and a mark placed in the directions noise
// leaves unused changed silero's speech probability by 0.2-0.6 on a voiced test signal. Each row
// (the last axis is time) is one of: a voiced sound (a harmonic series on a fundamental of
// 80-300 Hz with random 1/n-decaying amplitudes and phases, as vowels), noise bursts, or near
// silence, at a level from -60 to 0 dBFS, over a noise floor of -80 to -20 dBFS. From the PRNG the
// caller seeds with the owner's key: reproducible by the owner, unknown to anyone else.
import type { Prng } from '../core/index.js';

const db = (x: number) => 10 ** (x / 20);

function row(prng: Prng, out: Float32Array, from: number, n: number, rate: number): void {
  const kind = prng.nextFloat();
  const gain = db(-60 + 60 * prng.nextFloat());
  const floor = db(-80 + 60 * prng.nextFloat());
  const f0 = 80 + 220 * prng.nextFloat();
  const harmonics = Math.max(1, Math.min(40, Math.floor(rate / 2 / f0) - 1));
  const amps = Array.from({ length: harmonics }, (_, h) => prng.nextFloat() / (h + 1));
  const phases = amps.map(() => 2 * Math.PI * prng.nextFloat());
  for (let i = 0; i < n; i++) {
    let v = 0;
    if (kind < 0.6) for (let h = 0; h < harmonics; h++) v += amps[h]! * Math.sin((2 * Math.PI * f0 * (h + 1) * i) / rate + phases[h]!);
    else if (kind < 0.85) v = 2 * prng.nextFloat() - 1;
    out[from + i] = Math.max(-1, Math.min(1, gain * v + floor * (2 * prng.nextFloat() - 1)));
  }
}

/** Float32 samples of shape `dims`, one sound per row of the last axis. */
export function syntheticAudio(prng: Prng, dims: readonly number[], rate: number): Float32Array {
  const n = dims[dims.length - 1] ?? 1;
  const size = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  for (let from = 0; from < size; from += n) row(prng, out, from, n, rate);
  return out;
}
