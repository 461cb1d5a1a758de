import type { Command } from 'commander';
import { promptPassphrase } from './prompt-passphrase.js';
import { embedWatermark, resolveEmbedTsa, type EmbedEvent, type EmbedSummary, type EmbedTsa, type WatermarkScheme } from '../../src/embed/index.js';
import { parseSignerKey } from '../../src/evidence/owner-key.js';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { parsePreprocess, type ImagePreprocess } from '../../src/images/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../src/train/backend.js';
import { calibrationFromFlags, type CalibrationFlags } from '../calibration-flags.js';
import { action, EXIT, parseCount } from '../output.js';

interface Opts extends CalibrationFlags {
  out: string;
  scheme?: string;
  dataset?: string;
  imageSize?: string;
  pixelRange?: string;
  mean?: string;
  std?: string;
  channels?: string;
  layout?: string;
  epochs?: string;
  backend?: string;
  layer?: string;
  tensor?: string;
  bits?: string;
  triggers?: string;
  lambda?: string;
  trainingFree?: boolean;
  minTop1Agreement?: string;
  maxOutputChange?: string;
  json?: boolean;
  tsa?: string;
  tsaCa?: string;
  home?: string;
}

function parseFraction(flag: string, v: string, max = 1): number {
  const x = Number(v);
  if (!/^\d*\.?\d+(e-?\d+)?$/i.test(v) || !(x >= 0 && x <= max)) throw new RangeError(`${flag} must be a number in [0, ${max}], got "${v}"`);
  return x;
}

const collect = (v: string, prev: string[]) => [...prev, v];

const SCHEMES: readonly WatermarkScheme[] = ['weight', 'trigger', 'both'];

function bar(e: EmbedEvent): string {
  const width = 20;
  const filled = Math.round((width * (e.batch ?? 0)) / Math.max(1, e.batches ?? 1));
  const parts = [
    `epoch ${e.epoch}/${e.epochs}`,
    `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${e.batch}/${e.batches}`,
    `loss ${e.loss?.toFixed(4)}`,
    ...(e.triggerAccuracy !== undefined ? [`triggers ${(e.triggerAccuracy * 100).toFixed(0)}%`] : []),
    ...(e.ber !== undefined ? [`BER ${e.ber.toFixed(3)}`] : []),
    `${(e.samplesPerSecond ?? 0).toFixed(0)} samples/s`,
    `(${e.backend})`,
  ];
  return parts.join('  ');
}

const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`);

function describe(s: EmbedSummary): string {
  const lines = [
    `${s.ok ? 'Embedded' : 'Embedded, but not every mark reads back'}: ${s.scheme} watermark${s.trainingFree ? ' (training-free)' : ''}`,
    `  backend      ${s.backend.detail}`,
    `  input        ${s.input.path}  ${s.input.id}`,
    `  output       ${s.output.path}  ${s.output.id}`,
  ];
  if (s.dataset) lines.push(`  dataset      ${s.dataset.name}  ${s.dataset.id}`);
  if (s.cleanAccuracyBefore !== undefined) {
    lines.push(`  accuracy     ${pct(s.cleanAccuracyBefore)} -> ${pct(s.cleanAccuracyAfter)} (drop ${s.accuracyDropPoints?.toFixed(2)} points; ${s.dataset?.accuracyOn})`);
  }
  if (s.weight) lines.push(`  weight mark  ${s.weight.bits} bits in ${s.weight.layer} [${s.weight.shape.join('x')}] ${s.weight.layout}: BER ${s.weight.ber.toFixed(4)} (${s.weight.bitErrors} errors; ${s.weight.berBefore.toFixed(3)} before)`);
  if (s.weight?.reason) lines.push(`  why          ${s.weight.reason}; relative change ${((s.weight.relativeChange ?? 0) * 100).toFixed(3)}%${s.weight.inputMetric ? ', shaped by the layer\'s input statistics' : ''}`);
  if (s.fidelity) {
    lines.push(`  fidelity     on ${s.fidelity.inputs} ${s.fidelity.source === 'dataset' ? 'dataset' : 'key-derived synthetic'} inputs:`);
    for (const f of s.fidelity.outputs) lines.push(`    ${f.name.padEnd(12)} top-1 agreement ${f.top1Agreement === undefined ? 'n/a' : pct(f.top1Agreement)}, max |change| ${f.maxAbsChange.toExponential(2)}, mean |change| ${f.meanAbsChange.toExponential(2)}`);
  } else if (s.trainingFree) lines.push('  fidelity     not measured (no graph to run)');
  if (s.trigger) lines.push(`  trigger set  ${s.trigger.n} ${s.trigger.kind} images: ${pct(s.trigger.accuracy)} answered (${pct(s.trigger.accuracyBefore)} before)`);
  if (s.training) lines.push(`  training     ${s.training.steps} steps, ${s.training.samples} samples, ${s.training.samplesPerSecond.toFixed(0)} samples/s, ${s.training.seconds.toFixed(1)} s${s.training.stoppedEarly ? ' (stopped early: marks in place)' : ''}`);
  lines.push(`  time         ${s.seconds.toFixed(1)} s`);
  lines.push(`  ledger       input #${s.ledger.inputModel}${s.ledger.dataset !== undefined ? `, dataset #${s.ledger.dataset}` : ''}, watermark.committed #${s.ledger.committed}, model.registered #${s.ledger.model}, lineage.derived #${s.ledger.derivation}`);
  lines.push(`  commitment   ${s.commitment}`);
  lines.push(`  sealed       checkpoint of size ${s.seal.checkpointSize} signed before the model was written${s.seal.timestamp ? `; RFC 3161 token ${s.seal.timestamp.genTime} by ${s.seal.timestamp.tsa}` : ' (no TSA configured: pass --tsa for an independent time anchor)'}`);
  lines.push(`  secret       ${s.secret.path} (encrypted)`);
  return lines.join('\n');
}

export function registerEmbed(program: Command): void {
  program
    .command('embed <model>')
    .description('embed the owner\'s watermarks in a model (fine-tuning with TensorFlow.js, or --training-free) and record them in the ledger')
    .requiredOption('--out <path>', 'where to write the marked model (must not exist)')
    .option('--scheme <scheme>', 'weight, trigger or both', 'both')
    .option('--dataset <mnist|dir>', 'training data: the built-in "mnist" or a folder of class subfolders of PNG/JPEG images (fine-tuning default: mnist)')
    .option('--image-size <HxW>', "resize dataset images to this (bilinear; default: the model's input size)")
    .option('--pixel-range <lo,hi>', 'values pixel 0 and 255 map to before mean/std (default 0,1; Keras MobileNet: -1,1)')
    .option('--mean <m|r,g,b>', 'subtract per channel after the range (ImageNet: 0.485,0.456,0.406)')
    .option('--std <s|r,g,b>', 'divide per channel after the mean (ImageNet: 0.229,0.224,0.225)')
    .option('--channels <1|3>', "grayscale or RGB (default: the model's input channels)")
    .option('--layout <nhwc|nchw>', "the model's image layout (default: read from its input shape)")
    .option('--epochs <n>', 'at most this many epochs; stops early once the marks read back', '4')
    .option('--backend <name>', `training backend: ${BACKEND_CHOICES.join(', ')}`, 'auto')
    .option('--layer <name>', 'layer to carry the weight mark (default: first conv/dense with >= 2x bits features)')
    .option('--tensor <name>', 'with --training-free: tensor to mark (default: chosen by shape)')
    .option('--bits <n>', 'weight-mark bits T (default: 256 fine-tuning; training-free: the fewest that decide at alpha 1e-6 with 10% of bits flipped)')
    .option('--min-top1-agreement <fraction>', 'with --training-free: refuse if fewer top-1 answers than this stay the same (default 0.99)')
    .option('--max-output-change <x>', 'with --training-free: refuse if any output value moves by more than this')
    .option('--calibration-inputs <n>', 'with --training-free: inputs the fidelity is measured on (default 256; the dataset when given)')
    .option('--input-dims <name=d,d,...>', 'with --training-free: shape of one calibration feed of this input, for dynamic axes (repeatable)', collect, [])
    .option('--input-value <name=x>', 'with --training-free: fixed value of this input, e.g. a sample rate or a zero state (repeatable)', collect, [])
    .option('--input-range <name=lo,hi>', 'with --training-free: range of the synthetic values of this input (default 0,1; repeatable)', collect, [])
    .option('--input-signal <name=uniform|audio>', "with --training-free: 'audio' feeds tones, chirps and noise (repeatable)", collect, [])
    .option('--sample-rate <hz>', "with --training-free: sample rate of 'audio' inputs (default 16000)")
    .option('--triggers <n>', 'trigger images N', '100')
    .option('--lambda <x>', 'fine-tuning: weight of the weight-mark loss against the task loss (default 1; a pretrained backbone such as MobileNet: 10)')
    .option('--training-free', 'weight mark by a minimum-norm weight change, for ONNX/safetensors models that cannot be fine-tuned')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--tsa <url>', 'RFC 3161 time-stamping authority that stamps the commitment before the model is written (default: config.json "tsa")')
    .option('--tsa-ca <file>', "CA certificate(s) to check the TSA's chain against")
    .option('--json', 'JSON lines: one per progress event, then the summary')
    .action(action(async (modelPath: string, opts: Opts) => {
      const scheme = opts.scheme as WatermarkScheme;
      if (!SCHEMES.includes(scheme)) throw new RangeError(`--scheme must be weight, trigger or both, got "${opts.scheme}"`);
      const backend = opts.backend as BackendChoice;
      if (!BACKEND_CHOICES.includes(backend)) throw new RangeError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, got "${opts.backend}"`);
      const epochs = parseCount('--epochs', opts.epochs);
      const bits = parseCount('--bits', opts.bits);
      const triggers = parseCount('--triggers', opts.triggers);
      const calibration = calibrationFromFlags(opts, parseCount);
      const passphrase = await resolvePassphrase(process.stdin.isTTY && process.stderr.isTTY ? { prompt: () => promptPassphrase('passphrase for the watermark secrets: ') } : {});
      const home = openHome(resolveHomeDir(opts.home));
      const tty = !opts.json && process.stderr.isTTY;
      let barShown = false;
      const onProgress = (e: EmbedEvent) => {
        if (opts.json) process.stdout.write(`${JSON.stringify({ event: 'progress', ...e })}\n`);
        else if (tty && e.phase === 'train' && e.batch !== undefined) {
          process.stderr.write(`\r${bar(e)}\x1b[K`);
          barShown = true;
        } else if (tty && e.message) {
          if (barShown) process.stderr.write('\n');
          barShown = false;
          process.stderr.write(`${e.phase}: ${e.message} (${e.backend})\n`);
        }
      };
      try {
        const summary = await embedWatermark({
          home: { dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey },
          ownerSeed: parseSignerKey(home.readOwnerSignerKey()).seed,
          model: modelPath,
          out: opts.out,
          scheme,
          ...(opts.trainingFree ? { trainingFree: true } : {}),
          ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
          ...preprocessFlags(opts),
          ...(opts.layer !== undefined ? { layer: opts.layer } : {}),
          ...(opts.tensor !== undefined ? { tensor: opts.tensor } : {}),
          ...(epochs !== undefined ? { epochs } : {}),
          ...(bits !== undefined ? { bits } : {}),
          ...calibration,
          ...(opts.minTop1Agreement !== undefined || opts.maxOutputChange !== undefined ? { limits: {
            ...(opts.minTop1Agreement !== undefined ? { minTop1Agreement: parseFraction('--min-top1-agreement', opts.minTop1Agreement) } : {}),
            ...(opts.maxOutputChange !== undefined ? { maxAbsChange: parseFraction('--max-output-change', opts.maxOutputChange, Infinity) } : {}),
          } } : {}),
          ...(triggers !== undefined ? { triggers } : {}),
          ...(opts.lambda !== undefined ? { lambda: parseFraction('--lambda', opts.lambda, 1000) } : {}),
          backend,
          passphrase,
          ...sealWith(home.paths.dir, opts),
          actor: 'cli',
          onProgress,
        });
        if (barShown) process.stderr.write('\n');
        if (opts.json) process.stdout.write(`${JSON.stringify({ event: 'summary', ...summary })}\n`);
        else process.stdout.write(`${describe(summary)}\n`);
        return summary.ok ? EXIT.ok : EXIT.failed;
      } finally {
        home.close();
      }
    }));
}

/** --image-size, --pixel-range, --mean, --std, --channels, --layout; a bad value is the caller's mistake. */
function preprocessFlags(opts: Opts): { preprocess?: ImagePreprocess } {
  const raw: Record<string, unknown> = {};
  const flags = [['size', opts.imageSize], ['range', opts.pixelRange], ['mean', opts.mean], ['std', opts.std], ['channels', opts.channels], ['layout', opts.layout]] as const;
  for (const [k, v] of flags) if (v !== undefined) raw[k] = v;
  if (Object.keys(raw).length === 0) return {};
  try {
    return { preprocess: parsePreprocess(raw) };
  } catch (err) {
    throw new RangeError((err as Error).message.replace(/^preprocess: (\w+)/, (_, k: string) => `--${({ size: 'image-size', range: 'pixel-range' } as Record<string, string>)[k] ?? k}`));
  }
}

function sealWith(homeDir: string, opts: { tsa?: string; tsaCa?: string }): { tsa?: EmbedTsa } {
  const tsa = resolveEmbedTsa(homeDir, opts.tsa ? { url: opts.tsa, ...(opts.tsaCa ? { ca: opts.tsaCa } : {}) } : undefined);
  return tsa ? { tsa } : {};
}
