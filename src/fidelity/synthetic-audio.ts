// Key-derived synthetic audio for calibrating audio models (silero VAD and the like): white noise
// in [0, 1) or [-1, 1) is not what such a model hears, and a mark placed in the directions noise
// leaves unused changed silero's speech probability by 0.2-0.6 on a voiced test signal. The signal
// is a sequence of sounds, each lasting 0.1-0.6 s, so that a stream of consecutive chunks hears a
// vowel held over several of them as a streaming model does: a voiced sound (a harmonic series on a
// fundamental of 80-300 Hz with random 1/n-decaying amplitudes and phases, as vowels), noise
// bursts, or near silence, at a level from -60 to 0 dBFS, over a noise floor of -80 to -20 dBFS.
// Without a stream (one call, no `AudioStream`), each row of the last axis is one sound.
// From the PRNG the caller seeds with the owner's key: reproducible by the owner, unknown to anyone else.
import type { Prng } from '../core/index.js';

const db = (x: number) => 10 ** (x / 20);

interface Sound {
  readonly kind: number;
  readonly gain: number;
  readonly floor: number;
  readonly f0: number;
  readonly amps: readonly number[];
  readonly phases: readonly number[];
  /** Samples left, and samples played. */
  left: number;
  t: number;
}

/** Where a signal is between calls: the sound playing and how much of it is left. */
export interface AudioStream {
  sound?: Sound;
}

function newSound(prng: Prng, rate: number): Sound {
  const kind = prng.nextFloat();
  const gain = db(-60 + 60 * prng.nextFloat());
  const floor = db(-80 + 60 * prng.nextFloat());
  const f0 = 80 + 220 * prng.nextFloat();
  const harmonics = Math.max(1, Math.min(40, Math.floor(rate / 2 / f0) - 1));
  const amps = Array.from({ length: harmonics }, (_, h) => prng.nextFloat() / (h + 1));
  const phases = amps.map(() => 2 * Math.PI * prng.nextFloat());
  return { kind, gain, floor, f0, amps, phases, left: Math.round(rate * (0.1 + 0.5 * prng.nextFloat())), t: 0 };
}

function sample(prng: Prng, s: Sound, rate: number): number {
  let v = 0;
  if (s.kind < 0.6) for (let h = 0; h < s.amps.length; h++) v += s.amps[h]! * Math.sin((2 * Math.PI * s.f0 * (h + 1) * s.t) / rate + s.phases[h]!);
  else if (s.kind < 0.85) v = 2 * prng.nextFloat() - 1;
  s.t++;
  s.left--;
  return Math.max(-1, Math.min(1, s.gain * v + s.floor * (2 * prng.nextFloat() - 1)));
}

/** Float32 samples of shape `dims`: with `stream`, the signal goes on where the last call left it; without, one sound per row of the last axis. */
export function syntheticAudio(prng: Prng, dims: readonly number[], rate: number, stream?: AudioStream): Float32Array {
  const n = dims[dims.length - 1] ?? 1;
  const size = dims.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const state: AudioStream = stream ?? {};
  for (let from = 0; from < size; from += n) {
    if (!stream) state.sound = undefined;
    for (let i = 0; i < n; i++) {
      if (!state.sound || state.sound.left <= 0) state.sound = newSound(prng, rate);
      out[from + i] = sample(prng, state.sound, rate);
    }
  }
  return out;
}
