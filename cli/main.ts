#!/usr/bin/env node
// hallmark: the command line. Each command lives in its own small file under commands/.
// Only the modules of the command being run are loaded (TensorFlow.js and onnxruntime are
// heavy), so `hallmark ledger show 3` starts in a fraction of the time `hallmark embed` does.
import { Command } from 'commander';
import { EXIT } from './output.js';

type Register = (program: Command) => void;

/** Top-level command name -> the modules (and their register functions) that define it, in help order. */
const COMMANDS: [name: string, loaders: (() => Promise<Register>)[]][] = [
  ['init', [async () => (await import('./commands/init.js')).registerInit]],
  ['ledger', [async () => (await import('./commands/ledger.js')).registerLedger, async () => (await import('./commands/timestamp.js')).registerTimestamp, async () => (await import('./commands/ledger-tiles.js')).registerLedgerTiles, async () => (await import('./commands/ledger-publish.js')).registerLedgerPublish, async () => (await import('./commands/ledger-publish.js')).registerLedgerProof]],
  ['dataset', [async () => (await import('./commands/dataset.js')).registerDatasetCommands]],
  ['model', [async () => (await import('./commands/model.js')).registerModelCommands, async () => (await import('./commands/model-sign.js')).registerModelSign]],
  ['lineage', [async () => (await import('./commands/lineage.js')).registerLineage]],
  ['embed', [async () => (await import('./commands/embed.js')).registerEmbed]],
  ['verify', [async () => (await import('./commands/verify.js')).registerVerify]],
  ['calibrate', [async () => (await import('./commands/calibrate.js')).registerCalibrate]],
  ['attack', [async () => (await import('./commands/attack.js')).registerAttack]],
  ['provenance', [async () => (await import('./commands/provenance.js')).registerProvenance]],
  ['evidence', [async () => (await import('./commands/evidence.js')).registerEvidence]],
  ['keys', [async () => (await import('./commands/keys.js')).registerKeys]],
  ['witness', [async () => (await import('./commands/witness.js')).registerWitness]],
  ['serve', [async () => (await import('./commands/serve.js')).registerServe]],
  ['demo', [async () => (await import('./commands/demo.js')).registerDemo]],
];

const program = new Command();
program
  .name('hallmark')
  .description('Watermark ML models, keep a verifiable provenance ledger, and verify suspected stolen copies.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (str, write) => write(`hallmark: USAGE: ${str.replace(/^error: /, '')}`) })
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });

// The first argument that is not an option names the command; help, an unknown name or none
// loads them all so that commander can list them or suggest the right one.
const requested = process.argv.slice(2).find((a) => !a.startsWith('-'));
const known = COMMANDS.find(([name]) => name === requested);
for (const [, loaders] of known ? [known] : COMMANDS) {
  for (const load of loaders) (await load())(program);
}

await program.parseAsync(process.argv);
