// `hallmark ledger publish`: submit the current checkpoint to the witnesses of a tlog-policy and
// publish it (home/checkpoint.published, served at /tlog/checkpoint) only when the quorum is met.
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { parsePolicy, publishCheckpoint, quorumError } from '../../src/witness/index.js';
import { action, emit } from '../output.js';
import { findOrCreate } from './ledger-tiles.js';

export const policyPath = (homeDir: string) => join(homeDir, 'tlog-policy');

export function registerLedgerPublish(program: Command): void {
  findOrCreate(program, 'ledger', 'the provenance ledger')
    .command('publish')
    .description('submit the current checkpoint to the witnesses in the tlog-policy; publish it when their cosignatures meet the quorum')
    .option('--policy <file>', 'tlog-policy file (default: <home>/tlog-policy)')
    .option('--timeout-ms <ms>', 'per-witness timeout', '10000')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (opts: { policy?: string; timeoutMs: string; home?: string; json?: boolean }) => {
      const dir = resolveHomeDir(opts.home);
      const file = opts.policy ?? policyPath(dir);
      if (!existsSync(file)) throw new RangeError(`no tlog-policy at ${file}; write one (see docs/standards.md) or pass --policy`);
      const policy = parsePolicy(readFileSync(file, 'utf8'));
      const home = openHome(dir);
      try {
        const r = await publishCheckpoint(home.ledger, policy, { homeDir: dir, timeoutMs: Number(opts.timeoutMs) });
        emit(opts, { size: r.checkpoint.size, published: r.quorumMet, witnesses: r.outcomes, ...(r.quorumMet ? { checkpoint: r.note } : {}) }, () =>
          [...r.outcomes.map((o) => `${o.ok ? 'ok  ' : 'FAIL'} ${o.witness}: ${o.detail}`), r.quorumMet ? `published checkpoint ${r.checkpoint.size} with ${r.outcomes.filter((o) => o.ok).length} cosignatures` : ''].filter(Boolean).join('\n'));
        if (!r.quorumMet) throw quorumError(r);
      } finally {
        home.close();
      }
    }));
}
