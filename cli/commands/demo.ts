import type { Command } from 'commander';
import { runDemo } from '../../src/demo/demo.js';
import { action } from '../output.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the main job end to end in a temporary home')
    .option('--home <dir>', 'use this (new) home folder instead of a temporary one')
    .action(action(async (opts: { home?: string }) => {
      const r = await runDemo({ ...(opts.home ? { home: opts.home } : {}), log: (l) => process.stdout.write(`${l}\n`) });
      // The demo home's keys are sealed: the hint names the passphrase it used (never a user's own).
      const pass = process.env.HALLMARK_PASSPHRASE ? '' : 'HALLMARK_PASSPHRASE=hallmark-demo ';
      process.stdout.write(`\nDone. The demo home is ${r.home}\n  the report:  ${r.evidence.pdf}\n  try:         ${pass}npx hallmark ledger verify --home ${r.home}\n               npx hallmark evidence verify ${r.evidence.dir}\n`);
    }));
}
