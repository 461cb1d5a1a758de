// `hallmark ledger publish`: submit the current checkpoint to the witnesses of a tlog-policy and
// publish it (home/checkpoint.published, served at /tlog/checkpoint) only when the quorum is met.
import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpoint } from '../../ledger/index.js';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { formatTlogProof, parsePolicy, proveIndex, publishCheckpoint, quorumError, readPublished, verifyTlogProof, TLOG_PROOF_HEADER, WitnessError } from '../../src/witness/index.js';
import { action, emit, parseCount } from '../output.js';
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

/** The checkpoint a proof for `index` uses: the published (cosigned) one when it covers the entry, else a signed one. */
function checkpointForProof(homeDir: string, ledger: import('../../ledger/index.js').Ledger, index: number): { note: string; size: number; witnessed: boolean } {
  const published = readPublished(homeDir);
  if (published) {
    const size = parseCheckpoint(published.slice(0, published.indexOf('\n\n') + 1)).size;
    if (size > index) return { note: published, size, witnessed: true };
  }
  const cp = ledger.checkpointCovering(index) ?? ledger.checkpoint();
  return { note: cp.note, size: cp.size, witnessed: false };
}

export function registerLedgerProof(program: Command): void {
  const ledger = findOrCreate(program, 'ledger', 'the provenance ledger');
  ledger
    .command('proof')
    .description('write a C2SP tlog-proof file for an entry (the entry in `extra`, its inclusion proof, the cosigned checkpoint when published)')
    .requiredOption('--index <n>', 'entry index')
    .option('--out <file>', 'write here (default: stdout)')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .action(action((opts: { index: string; out?: string; home?: string }) => {
      const index = parseCount('--index', opts.index)!;
      const dir = resolveHomeDir(opts.home);
      const home = openHome(dir);
      try {
        const cp = checkpointForProof(dir, home.ledger, index);
        const text = formatTlogProof(proveIndex(home.ledger, index, cp.note, cp.size));
        if (opts.out) {
          writeFileSync(opts.out, text);
          process.stderr.write(`wrote ${opts.out}: entry ${index} in the checkpoint of size ${cp.size}${cp.witnessed ? ' (cosigned by the witnesses)' : ' (not witnessed: run "hallmark ledger publish")'}\n`);
        } else {
          process.stdout.write(text);
        }
      } finally {
        home.close();
      }
    }));

  ledger
    .command('verify-proof <file>')
    .description('check a tlog-proof offline against a tlog-policy (log key and witness quorum), or just a log key')
    .option('--policy <file>', 'tlog-policy naming the log and the witnesses')
    .option('--log-key <vkey>', 'the log\'s verifier key, when no policy is given (no witnesses required)')
    .option('--json', 'print JSON')
    .action(action((file: string, opts: { policy?: string; logKey?: string; json?: boolean }) => {
      if ((opts.policy === undefined) === (opts.logKey === undefined)) throw new RangeError('give exactly one of --policy and --log-key');
      verifyTlogProofFile(readFileSync(file, 'utf8'), { ...(opts.policy ? { policy: readFileSync(opts.policy, 'utf8') } : {}), ...(opts.logKey ? { logKey: opts.logKey } : {}), ...(opts.json ? { json: true } : {}) });
    }));
}

/** A tlog-proof file starts with this line; `provenance verify` and `evidence verify` hand such files here. */
export const isTlogProofText = (text: string) => text.startsWith(`${TLOG_PROOF_HEADER}\n`);

/**
 * Checks a tlog-proof offline against a policy (the log key and the witness quorum) or a log key
 * alone, and prints what it proves. With both, the policy must name that log key.
 */
export function verifyTlogProofFile(text: string, o: { policy?: string; logKey?: string; json?: boolean }): void {
  const policy = parsePolicy(o.policy ?? `log ${o.logKey}\nquorum none\n`);
  if (o.policy !== undefined && o.logKey !== undefined && !policy.logs.some((l) => l.vkey === o.logKey)) throw new WitnessError('WITNESS_BAD_POLICY', 'the policy does not name the log key given (--pubkey)');
  const r = verifyTlogProof(text, policy);
  emit(o, { verified: true, origin: r.checkpoint.origin, size: r.checkpoint.size, index: r.index, cosigners: r.cosigners, ...(r.entry ? { entry: r.entry } : {}) }, () => [
    `OK: entry ${r.index} is in ${r.checkpoint.origin} at size ${r.checkpoint.size}`,
    `witnessed by ${r.cosigners.map((c) => `${c.witness} (${new Date(c.timestamp * 1000).toISOString()})`).join(', ') || 'no witness (policy quorum none)'}`,
    ...(r.entry ? [`entry: ${r.entry.type} at ${r.entry.time} by ${r.entry.actor}`] : []),
  ].join('\n'));
}
