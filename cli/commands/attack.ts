import type { Command } from 'commander';
import { ATTACK_KINDS, runAttack, type AttackKind } from '../../src/attacks/index.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../src/train/backend.js';
import { action, emit, parseCount } from '../output.js';
import { startProgress } from '../progress.js';

interface Opts {
  out: string;
  amount?: string;
  bits?: string;
  sigma?: string;
  fraction?: string;
  epochs?: string;
  queries?: string;
  temperature?: string;
  seed?: string;
  testLimit?: string;
  backend?: string;
  json?: boolean;
  endpoint?: string;
  key?: string;
  protocol?: string;
  modelName?: string;
  data?: string;
}

function parseUnit(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!/^[0-9.eE+-]+$/.test(v) || !(x >= 0 && x <= 1)) throw new RangeError(`${name} must be a number in [0, 1], got "${v}"`);
  return x;
}

function parseTemperature(v: string | undefined, kind: string): number | undefined {
  if (v === undefined) return undefined;
  if (kind !== 'distill') throw new RangeError('--temperature applies to distill only');
  const t = Number(v);
  if (!/^[0-9.eE+]+$/.test(v) || !(t > 0 && t <= 100)) throw new RangeError(`--temperature must be a number in (0, 100], got "${v}"`);
  return t;
}

const pct = (v: number | undefined) => (v === undefined ? 'n/a (no graph to run)' : `${(v * 100).toFixed(2)}%`);

export function registerAttack(program: Command): void {
  program
    .command('attack <kind> [model]')
    .description(`attack a model as a thief would (${ATTACK_KINDS.join(', ')}, or extract through an endpoint) and print its clean accuracy`)
    .requiredOption('--out <path>', 'where to write the attacked model (must not exist)')
    .option('--amount <f>', 'prune: fraction of each kernel set to zero', '0.5')
    .option('--bits <n>', 'quantize: bits per weight (8 = int8)', '8')
    .option('--sigma <s>', 'noise: standard deviation relative to each kernel', '0.1')
    .option('--fraction <f>', 'ftal/rtal: fraction of the training data the attacker has', '0.1')
    .option('--epochs <n>', 'ftal/rtal (default 2), distill (default 3)')
    .option('--queries <n>', 'distill: unlabelled queries to the suspect', '4000')
    .option('--temperature <t>', "distill: soft labels, the suspect's probabilities softened at temperature T (default: hard labels, its top class)")
    .option('--seed <n>', "seed of the attack (noise, init, shuffles; default 1, for distill the first seed whose student does not start from the teacher's own initial weights)")
    .option('--test-limit <n>', 'measure clean accuracy on the first N of the 2000 test images')
    .option('--backend <b>', `TF.js backend: ${BACKEND_CHOICES.join(' | ')}`, 'auto')
    .option('--endpoint <url>', 'extract: the inference endpoint to steal from')
    .option('--key <key>', 'extract: the API key to query it with (else $HALLMARK_EXTRACT_KEY)')
    .option('--protocol <p>', 'extract: oip-v2 | tfserving', 'oip-v2')
    .option('--model-name <name>', 'extract: served model name (else read from the URL)')
    .option('--data <d>', 'extract: mnist-t10k (MNIST\'s 10,000 test digits, none in the owner\'s built-in data) | mnist (1,000 built-in test digits, then shifted copies) | synthetic | a PNG folder', 'mnist')
    .option('--json', 'print JSON')
    .action(action(async (kind: string, model: string | undefined, opts: Opts) => {
      if (kind === 'extract') return (await import('./attack-extract.js')).runExtract(opts);
      if (!model) throw new RangeError(`attack ${kind} needs a MODEL path`);
      if (!ATTACK_KINDS.includes(kind as AttackKind)) throw new RangeError(`attack kind must be one of ${ATTACK_KINDS.join(', ')}, got "${kind}"`);
      if (!BACKEND_CHOICES.includes(opts.backend as BackendChoice)) throw new RangeError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
      const epochs = parseCount('--epochs', opts.epochs);
      const testLimit = parseCount('--test-limit', opts.testLimit);
      const temperature = parseTemperature(opts.temperature, kind);
      const bar = startProgress(`${kind}`, opts);
      const r = await runAttack({
        kind: kind as AttackKind, model, out: opts.out,
        amount: parseUnit('--amount', opts.amount)!, bits: parseCount('--bits', opts.bits)!, sigma: Number(opts.sigma),
        dataFraction: parseUnit('--fraction', opts.fraction)!, queries: parseCount('--queries', opts.queries)!, ...(opts.seed === undefined ? {} : { seed: parseCount('--seed', opts.seed)! }),
        ...(epochs === undefined ? {} : { epochs }), ...(testLimit === undefined ? {} : { testLimit }), ...(temperature === undefined ? {} : { temperature }),
        backend: opts.backend as BackendChoice,
        onProgress: (f) => bar.update((f.epoch - 1) * f.batches + f.batch, f.epochs * f.batches, `epoch ${f.epoch}/${f.epochs}`),
      }).finally(() => bar.done());
      emit(opts, r, () => [
        `${r.kind} (${Object.entries(r.parameters).map(([k, v]) => `${k} ${v}`).join(', ')}) -> ${r.out} (${r.format})`,
        `  clean accuracy  before ${pct(r.cleanAccuracyBefore)}  after ${pct(r.cleanAccuracy)}  (mnist test split)`,
        `  tensors changed ${r.tensors.length}; zeros ${r.tensors.map((t) => `${t.name} ${(t.zeroFraction * 100).toFixed(1)}%`).join(', ')}`,
        `  backend ${r.backend}, ${r.seconds.toFixed(1)} s`,
      ].join('\n'));
    }));
}
