#!/usr/bin/env node
// hallmark: the command line. Each command lives in its own small file under commands/.
import { Command } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerEmbed } from './commands/embed.js';
import { registerInit } from './commands/init.js';
import { registerLedger } from './commands/ledger.js';
import { registerDatasetCommands } from './commands/dataset.js';
import { registerModelCommands } from './commands/model.js';
import { registerLineage } from './commands/lineage.js';
import { registerProvenance } from './commands/provenance.js';
import { registerEvidence } from './commands/evidence.js';
import { registerTimestamp } from './commands/timestamp.js';
import { registerKeys } from './commands/keys.js';
import { registerServe } from './commands/serve.js';
import { registerVerify } from './commands/verify.js';
import { registerCalibrate } from './commands/calibrate.js';
import { registerAttack } from './commands/attack.js';
import { EXIT } from './output.js';

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

registerInit(program);
registerLedger(program);
registerDatasetCommands(program);
registerModelCommands(program);
registerLineage(program);
registerTimestamp(program);
registerProvenance(program);
registerEvidence(program);
registerKeys(program);
registerServe(program);
registerEmbed(program);
registerVerify(program);
registerCalibrate(program);
registerAttack(program);
registerDemo(program);

await program.parseAsync(process.argv);
