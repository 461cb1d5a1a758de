import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { formatLineage, identifyModel, isModelId, lineageOf } from '../../src/lineage/index.js';
import { action, emit } from '../output.js';

interface Opts {
  home?: string;
  json?: boolean;
}

export function registerLineage(program: Command): void {
  program
    .command('lineage <model>')
    .description('the lineage tree of a registered model: base models, datasets and operations (give a model id or a model path)')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (model: string, opts: Opts) => {
      // A path is identified by its digest, so `hallmark lineage ./model` works without the id.
      const id = !isModelId(model) && existsSync(model) ? (await identifyModel(model)).id : model;
      const home = openHome(resolveHomeDir(opts.home));
      try {
        const tree = lineageOf(home.ledger, id);
        emit(opts, tree, () => formatLineage(tree));
      } finally {
        home.close();
      }
    }));
}
