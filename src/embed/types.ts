// The options, progress events and summary of one embedding run, shared by the fine-tuning and
// the training-free paths and by the CLI, the demo and the benchmark.
import type * as pkijs from 'pkijs';
import type { Ledger } from '../../ledger/index.js';
import type { WatermarkScheme } from '../records/index.js';
import type { BackendChoice } from '../train/backend.js';
import type { ImagePreprocess } from '../images/index.js';

export type { WatermarkScheme };

export interface EmbedHome {
  readonly dir: string;
  readonly ledger: Ledger;
  /** The owner's verifier key string, recorded in watermark.committed. */
  readonly ownerVerifierKey: string;
}

/** An RFC 3161 time-stamping authority to stamp the commitment's checkpoint with. */
export interface EmbedTsa {
  readonly url: string;
  readonly caCerts?: readonly pkijs.Certificate[];
}

/** The checkpoint that sealed the commitment before the marked model was written. */
export interface EmbedSeal {
  readonly checkpointSize: number;
  readonly timestamp?: { readonly genTime: string; readonly tsa: string; readonly chainVerified: boolean };
}

export interface EmbedOptions {
  readonly home: EmbedHome;
  /** The owner's 32-byte Ed25519 seed: the watermark root is its signature over the input model id. */
  readonly ownerSeed: Uint8Array;
  /** Input model: a TF.js folder or model.json (fine-tuning), or .onnx / .safetensors (training-free). */
  readonly model: string;
  /** Output path: a folder for TF.js, a file for ONNX and safetensors. Must not exist yet. */
  readonly out: string;
  /** "mnist" or a PNG class-folder. Required to fine-tune; optional (accuracy only) training-free. */
  readonly dataset?: string;
  /** How the dataset's images become inputs (size, channels, range, mean/std, layout); overrides the folder's preprocess.json. */
  readonly preprocess?: ImagePreprocess;
  readonly scheme?: WatermarkScheme;
  /** Weight mark by a minimum-norm change to one tensor, no training (scheme must be weight). */
  readonly trainingFree?: boolean;
  /** Training-free: the tensor to mark (default: chosen by shape). */
  readonly tensor?: string;
  /** Upper bound on epochs; training stops earlier once every mark reads back. Default 4. */
  readonly epochs?: number;
  readonly backend?: BackendChoice;
  /** Layer carrying the weight mark (default: first Conv2D/Dense kernel with >= 2T features). */
  readonly layer?: string;
  /** T, the number of bits (default 256). */
  readonly bits?: number;
  /** Weight of the watermark regulariser (default 1; mean over bits, so independent of T). */
  readonly lambda?: number;
  /** N, the number of trigger images (default 100). */
  readonly triggers?: number;
  /** Trigger images appended to every batch (default 16: with 64 clean samples the set is learnt in about 385 steps, and the clean task suffers less than with 50). */
  readonly triggersPerBatch?: number;
  readonly batchSize?: number;
  /** Adam learning rate (default 5e-4: 1e-3 learns the triggers in ~120 steps but cost the fixture ~0.7 points). */
  readonly learningRate?: number;
  /** Fine-tune on at most this many training samples (tests, the demo). */
  readonly trainLimit?: number;
  /** Measure clean accuracy on at most this many test samples. */
  readonly testLimit?: number;
  /** No early stop before this many steps (default 30). */
  readonly minSteps?: number;
  /** Steps at a fifth of the learning rate after the marks are in (default 50; 0 for none). */
  readonly settleSteps?: number;
  /** Seeds the batch order. */
  readonly seed?: number;
  /** Encrypts the secret material in <home>/secrets. */
  readonly passphrase: string;
  /** Stamp the commitment's checkpoint with this TSA (else the seal is the log's signature alone). */
  readonly tsa?: EmbedTsa;
  readonly actor?: string;
  /** Training-free: the detection target bits and margin are planned for (default alpha 1e-6, 10% bit flips, 1% noise, int8). */
  readonly detection?: Partial<import('../core/index.js').DetectionTarget>;
  /** Training-free: calibration inputs for the fidelity measurement (default 256 key-derived synthetic inputs, or the dataset). */
  readonly calibration?: { readonly count?: number; readonly batch?: number; readonly fixed?: Readonly<Record<string, number>>; readonly dims?: Readonly<Record<string, readonly number[]>>; readonly ranges?: Readonly<Record<string, readonly [number, number]>>; readonly signals?: Readonly<Record<string, 'uniform' | 'audio'>>; readonly sampleRate?: number };
  /** Training-free: refuse (write nothing) when the marked model's answers move past these (default: top-1 agreement >= 0.99). */
  readonly limits?: import('../fidelity/index.js').FidelityLimits;
  readonly onProgress?: (event: EmbedEvent) => void;
  readonly signal?: AbortSignal;
}

export type EmbedPhase = 'load' | 'evaluate' | 'commit' | 'train' | 'write' | 'register';

export interface EmbedEvent {
  readonly phase: EmbedPhase;
  readonly backend: string;
  readonly message?: string;
  readonly epoch?: number;
  readonly epochs?: number;
  readonly batch?: number;
  readonly batches?: number;
  readonly step?: number;
  readonly loss?: number;
  /** The watermark regulariser alone. */
  readonly markLoss?: number;
  /** Last measured, on the N trigger images. */
  readonly triggerAccuracy?: number;
  /** Last measured bit error rate. */
  readonly ber?: number;
  readonly samplesPerSecond?: number;
}

export interface EmbedSummary {
  readonly scheme: WatermarkScheme;
  readonly trainingFree: boolean;
  readonly backend: { readonly name: string; readonly detail: string };
  readonly input: { readonly path: string; readonly id: string; readonly format: string };
  readonly output: { readonly path: string; readonly id: string; readonly format: string };
  readonly dataset?: { readonly name: string; readonly id: string; readonly accuracyOn: string };
  readonly weight?: {
    readonly layer: string;
    readonly shape: readonly number[];
    readonly layout: string;
    readonly bits: number;
    readonly bitErrors: number;
    readonly ber: number;
    readonly berBefore: number;
    readonly lambda?: number;
    readonly margin?: number;
    readonly relativeChange?: number;
    /** Training-free: why this tensor. */
    readonly reason?: string;
    /** Training-free: whether the change was shaped by the layer-input second moment. */
    readonly inputMetric?: boolean;
  };
  /** Training-free: how the marked model's answers compare with the original's. */
  readonly fidelity?: import('../fidelity/index.js').FidelityReport;
  readonly trigger?: {
    readonly n: number;
    readonly kind: string;
    readonly matches: number;
    readonly accuracy: number;
    readonly accuracyBefore: number;
  };
  readonly cleanAccuracyBefore?: number;
  readonly cleanAccuracyAfter?: number;
  /** Before minus after, in percentage points. */
  readonly accuracyDropPoints?: number;
  readonly training?: { readonly steps: number; readonly samples: number; readonly samplesPerSecond: number; readonly seconds: number; readonly stoppedEarly: boolean };
  readonly seconds: number;
  readonly commitment: string;
  /** Commit, then seal: the checkpoint (and timestamp) covering watermark.committed, made before the output was written. */
  readonly seal: EmbedSeal;
  readonly secret: { readonly id: string; readonly path: string };
  readonly ledger: { readonly inputModel: number; readonly dataset?: number; readonly committed: number; readonly model: number; readonly derivation: number };
  /** Every mark reads back in full (BER 0, trigger accuracy >= 99%). */
  readonly ok: boolean;
}
