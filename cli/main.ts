#!/usr/bin/env node
// hallmark: the command line. Each command lives in its own small file under commands/.
// Only the modules of the command being run are loaded (TensorFlow.js and onnxruntime are
// heavy), so `hallmark ledger show 3` starts in a fraction of the time `hallmark embed` does.
import { Command } from 'commander';
import { COMMANDS } from './commands-table.js';
import { addExamples } from './examples.js';
import { preparePassphrase } from './home-passphrase.js';
import { EXIT, jsonRequested, writeError } from './output.js';

// Everything Hallmark writes is private to the user: homes, evidence folders, marked models.
process.umask(0o077);

// --version, -v and -V are the `version` command, which says more than a number.
const argv = [...process.argv];
if (argv.length === 3 && ['--version', '-v', '-V'].includes(argv[2]!)) argv[2] = 'version';

const program = new Command();
program
  .name('hallmark')
  .description('Watermark ML models, keep a verifiable provenance ledger, and verify suspected stolen copies.')
  .showHelpAfterError(jsonRequested(argv) ? false : '(run with --help for usage)')
  .configureOutput({
    outputError: (str) => writeError('USAGE', str.replace(/^error: /, '').split('\n')[0]!.trim()),
  })
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  })
  .addHelpText('after', `
Examples:
  hallmark init
  hallmark model register model.onnx --name my-model
  hallmark embed model.onnx --out marked.onnx --training-free
  hallmark verify suspect.onnx
  hallmark evidence export --verification 7 --out evidence/

Exit codes: 0 ok, 1 a check failed, 2 the command was wrong (flags, missing or unusable files), 3 the environment failed.
Errors are one line "hallmark: CODE: message" (JSON on stderr with --json). NO_COLOR turns colour off.`);

// The first argument that is not an option names the command; help, an unknown name or none
// loads them all so that commander can list them or suggest the right one. `completion` needs
// them all too, to describe every command.
const requested = argv.slice(2).find((a) => !a.startsWith('-'));
const known = requested === 'completion' ? undefined : COMMANDS.find(([name]) => name === requested);
for (const [, loaders] of known ? [known] : COMMANDS) {
  for (const load of loaders) (await load())(program);
}

addExamples(program);

// A home with sealed keys: ask for its passphrase once, before the command (init and home
// encrypt-keys ask for a new one themselves).
program.hook('preAction', async (_root, cmd) => {
  if (cmd.name() === 'init' || cmd.name() === 'encrypt-keys') return;
  await preparePassphrase((cmd.opts() as { home?: string }).home);
});

await program.parseAsync(argv);
