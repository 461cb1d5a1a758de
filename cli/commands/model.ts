import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { parseStrictJson, toHex, type JsonValue } from '../../ledger/index.js';
import { CONVERT_TARGETS, convertModel, type ConvertTarget } from '../../src/formats/convert-model.js';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { findModel, identifyModel, parseDatasetId, parseModelId, registerModel } from '../../src/lineage/index.js';
import { action, emit } from '../output.js';

interface Common {
  home?: string;
  json?: boolean;
}

interface RegisterOpts extends Common {
  name?: string;
  derivedFrom: string[];
  dataset: string[];
  operation?: string;
  parameters?: string;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function readParameters(path: string): JsonValue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RangeError(`--parameters ${path} is not a readable file (${(err as Error).message.split('\n')[0]})`);
  }
  // Hashed into the derivation record: parsed strictly (duplicate keys, __proto__, unsafe integers refused).
  return parseStrictJson(text, { what: `--parameters ${path}` }) as JsonValue;
}

/** Where the ledger registered a model; null when it did not, or when there is no home and none was asked for. */
/** The ledger entry for a model id, when a home exists; inspect itself needs none (only --home must exist). */
function lookUp(id: string, homeFlag: string | undefined): { index: number; name: string; time: string } | null {
  const dir = resolveHomeDir(homeFlag);
  if (homeFlag === undefined && !existsSync(dir)) return null;
  let home;
  try {
    home = openHome(dir);
  } catch (err) {
    if (homeFlag === undefined) return null; // an implicit home that is not one: nothing to look up
    throw err;
  }
  try {
    const f = findModel(home.ledger, id);
    return f ? { index: f.index, name: f.record.model.name, time: f.time } : null;
  } finally {
    home.close();
  }
}

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('models: register, inspect, convert');

  model
    .command('register <path>')
    .description('hash a model (file or folder) and record it in the ledger, with its lineage when given')
    .option('--name <name>', 'a readable name (default: the file or folder name)')
    .option('--derived-from <model-id>', 'a base model id (repeatable)', collect, [])
    .option('--dataset <dataset-id>', 'a dataset id it was trained on (repeatable)', collect, [])
    .option('--operation <name>', 'how it was made, e.g. fine-tune, train, distill (default: fine-tune with a base model, else train)')
    .option('--parameters <file>', 'JSON file of the operation parameters; only their SHA-256 is recorded')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (path: string, opts: RegisterOpts) => {
      const bases = opts.derivedFrom.map(parseModelId);
      const datasets = opts.dataset.map(parseDatasetId);
      const derived = bases.length + datasets.length > 0;
      if (!derived && (opts.operation || opts.parameters)) throw new RangeError('--operation and --parameters describe a derivation; give --derived-from or --dataset too');
      const info = await identifyModel(path, opts.name);
      const home = openHome(resolveHomeDir(opts.home));
      let r;
      try {
        r = registerModel(home.ledger, {
          model: info.descriptor,
          format: info.format,
          tensors: info.tensors,
          actor: 'cli',
          ...(derived ? {
            derivation: {
              operation: opts.operation ?? (bases.length ? 'fine-tune' : 'train'),
              baseModels: bases,
              datasets,
              ...(opts.parameters ? { parameters: readParameters(opts.parameters) } : {}),
            },
          } : {}),
        });
      } finally {
        home.close();
      }
      const d = r.derivation;
      const out = {
        id: r.record.id, index: r.index, leafHash: toHex(r.leafHash), model: r.record.model, format: r.record.format, tensors: r.record.tensors ?? null,
        derivation: d ? { index: d.index, operation: d.record.operation, inputs: d.record.inputs, parametersDigest: d.record.parametersDigest.sha256 } : null,
      };
      emit(opts, out, () => [
        `registered model "${info.descriptor.name}" (${info.format}) at entry ${r.index}`,
        `  id       ${r.record.id}`,
        `  tensors  ${info.tensors.count}, manifest root ${info.tensors.root}`,
        ...(d ? [`  lineage  ${d.record.operation} from ${[...d.record.inputs.models, ...d.record.inputs.datasets].join(', ')} (entry ${d.index})`] : []),
      ].join('\n'));
    }));

  model
    .command('inspect <path>')
    .description('format, tensors, digest and tensor-manifest root of a model, and whether the ledger has it (reads only)')
    .option('--home <dir>', 'home folder to look the model up in (default: $HALLMARK_HOME, else ./.hallmark, if it exists)')
    .option('--json', 'print JSON')
    .action(action(async (path: string, opts: Common) => {
      const info = await identifyModel(path);
      const registered = lookUp(info.id, opts.home);
      const out = { id: info.id, format: info.format, digest: info.descriptor.digest.sha256, mediaType: info.descriptor.mediaType, files: info.files, tensorManifestRoot: info.tensors.root, tensors: info.tensorList, registered };
      emit(opts, out, () => {
        const params = info.tensorList.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
        const w = Math.min(60, Math.max(4, ...info.tensorList.map((t) => t.name.length)));
        return [
          `${path}: ${info.format}`,
          `  id           ${info.id}${registered ? ` (registered at entry ${registered.index} as "${registered.name}")` : ''}`,
          `  digest       sha256:${info.descriptor.digest.sha256} over ${info.files.length} file${info.files.length === 1 ? '' : 's'}`,
          ...info.files.map((f) => `    ${f.path}  ${f.size} bytes  ${f.sha256}`),
          `  tensor root  ${info.tensors.root} (${info.tensors.count} tensors, ${params} values)`,
          ...info.tensorList.map((t) => `    ${t.name.padEnd(w)}  ${t.dtype.padEnd(4)}  [${t.shape.join(', ')}]`),
        ].join('\n');
      });
    }));

  model
    .command('convert <input>')
    .description('convert between TF.js Layers and ONNX (small vision models: Dense, Conv2D, pooling, BatchNorm, Add, ...)')
    .requiredOption('--to <format>', `target format: ${CONVERT_TARGETS.join(' or ')}`)
    .requiredOption('--out <path>', 'output: a .onnx file, or a folder for TF.js')
    .option('--json', 'print JSON')
    .action(action(async (input: string, opts: Common & { to: string; out: string }) => {
      if (!CONVERT_TARGETS.includes(opts.to as ConvertTarget)) throw new RangeError(`--to must be one of ${CONVERT_TARGETS.join(', ')}, got "${opts.to}"`);
      const r = await convertModel(input, opts.to as ConvertTarget, opts.out);
      const info = await identifyModel(opts.out);
      const out = { from: r.from, to: r.to, out: r.out, id: info.id, digest: info.descriptor.digest.sha256, tensors: info.tensors.count };
      emit(opts, out, () => `converted ${input} (${r.from}) to ${r.out} (${info.format}), ${info.tensors.count} tensors\n  id ${info.id}`);
    }));
}
