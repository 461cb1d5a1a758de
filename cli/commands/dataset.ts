import type { Command } from 'commander';
import { toHex } from '../../ledger/index.js';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { identifyDataset, registerDataset } from '../../src/lineage/index.js';
import { action, emit } from '../output.js';
import { startProgress } from '../progress.js';

interface Opts {
  home?: string;
  json?: boolean;
  name?: string;
}

export function registerDatasetCommands(program: Command): void {
  const dataset = program.command('dataset').description('datasets in the provenance ledger');
  dataset
    .command('register <source>')
    .description('register "mnist" (built-in) or a folder with one subfolder of PNG files per class')
    .option('--name <name>', 'a readable name (default: "mnist" or the folder name)')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (source: string, opts: Opts) => {
      const bar = startProgress('hashing files', opts);
      const info = await identifyDataset(source, opts.name, (done, total) => bar.update(done, total)).finally(() => bar.done());
      const home = openHome(resolveHomeDir(opts.home));
      let r;
      try {
        r = registerDataset(home.ledger, { dataset: info.descriptor, items: info.items, actor: 'cli' });
      } finally {
        home.close();
      }
      const out = { id: r.record.id, index: r.index, leafHash: toHex(r.leafHash), dataset: r.record.dataset, items: info.items, files: info.files, classes: info.classes ?? null, shape: info.shape ?? null };
      emit(opts, out, () => [
        `registered dataset "${info.descriptor.name}" at entry ${r.index}`,
        `  id       ${r.record.id}`,
        `  items    ${info.items} images${info.shape ? ` of ${info.shape.join('x')}` : ''}${info.classes ? `, ${info.classes.length} classes` : ''}`,
        `  manifest ${info.files} files, Merkle root ${info.descriptor.digest.sha256}`,
      ].join('\n'));
    }));
}
