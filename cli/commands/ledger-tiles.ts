// `hallmark ledger export-tiles DIR`: the ledger as C2SP tlog-tiles files for a static server.
import type { Command } from 'commander';
import { exportTiles } from '../../ledger/index.js';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { action, emit } from '../output.js';

interface Opts {
  home?: string;
  json?: boolean;
}

export function findOrCreate(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

export function registerLedgerTiles(program: Command): void {
  const ledger = findOrCreate(program, 'ledger', 'the provenance ledger');
  ledger
    .command('export-tiles <dir>')
    .description('write the ledger as C2SP tlog-tiles (checkpoint, tile/<L>/<N>, tile/entries/<N>) for any static web server')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action((dir: string, opts: Opts) => {
      const home = openHome(resolveHomeDir(opts.home));
      try {
        const cp = home.ledger.checkpoint();
        const r = exportTiles(home.ledger, dir, cp.note, cp.size);
        emit(opts, { dir, ...r, origin: cp.origin }, () => `exported the tree of size ${r.treeSize} to ${dir}: ${r.written} files written, ${r.kept} full tiles already there`);
      } finally {
        home.close();
      }
    }));
}
