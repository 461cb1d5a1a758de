import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { consistencyToJson, LedgerError, parseStrictJson, proofToJson, toHex, type JsonObject, type Ledger, type SignedCheckpoint } from '../../ledger/index.js';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { isProtectedType, RecordError } from '../../src/records/index.js';
import { action, emit, EXIT, paintVerdicts, parseCount } from '../output.js';
import { startProgress } from '../progress.js';

interface Opts {
  home?: string;
  json?: boolean;
}

function withLedger<T>(opts: Opts, fn: (ledger: Ledger) => T): T {
  const home = openHome(resolveHomeDir(opts.home));
  try {
    return fn(home.ledger);
  } finally {
    home.close();
  }
}

/** The signed checkpoint for a tree size: a stored one, or a fresh one at the current size. */
function checkpointFor(ledger: Ledger, size: number): SignedCheckpoint {
  if (size === ledger.size()) return ledger.checkpoint();
  const cp = ledger.checkpoints().find((c) => c.size === size);
  if (!cp) throw new LedgerError('LEDGER_OUT_OF_RANGE', `no signed checkpoint of size ${size}; omit the size to prove against the current tree, or pick one of: ${ledger.checkpoints().map((c) => c.size).join(', ') || 'none'}`);
  return cp;
}

function readPayload(src: string): JsonObject {
  const text = src === '-' ? readFileSync(0, 'utf8') : readFileSync(src, 'utf8');
  // Strict: the payload is hashed into the log, so it must mean exactly what the file says.
  const v = parseStrictJson(text, { what: `payload ${src === '-' ? 'from stdin' : src}` });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LedgerError('LEDGER_BAD_ENTRY', 'payload must be a JSON object');
  return v as JsonObject;
}

export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description('the append-only provenance log');
  const common = (c: Command) => c.option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)').option('--json', 'print JSON');

  common(ledger.command('append').description('append an entry').requiredOption('--type <type>', 'dotted entry type, e.g. note.added').requiredOption('--payload <file>', 'JSON object file, or - for stdin'))
    .action(action((opts: Opts & { type: string; payload: string }) => {
      if (isProtectedType(opts.type)) throw new RecordError('RECORD_PROTECTED', `entry type "${opts.type}" is written only by hallmark's own ${opts.type.split('.')[0]} code, signed by the owner's key; "ledger append" refuses it`);
      const payload = readPayload(opts.payload);
      const e = withLedger(opts, (l) => l.append({ type: opts.type, actor: 'cli', payload }));
      emit(opts, { index: e.index, leafHash: toHex(e.leafHash), entry: e.entry }, () => `appended entry ${e.index} (${e.entry.type}), leaf hash ${toHex(e.leafHash)}`);
    }));

  common(ledger.command('show <index>').description('print one entry'))
    .action(action((index: string, opts: Opts) => {
      const e = withLedger(opts, (l) => l.get(parseCount('index', index)!));
      emit(opts, { index: e.index, leafHash: toHex(e.leafHash), entry: e.entry }, () => `entry ${e.index}  ${e.entry.type}  ${e.entry.time}  by ${e.entry.actor}\nleaf hash ${toHex(e.leafHash)}\n${JSON.stringify(e.entry.payload, null, 2)}`);
    }));

  common(ledger.command('checkpoint').description('sign and print a checkpoint of the current tree'))
    .action(action((opts: Opts) => {
      const cp = withLedger(opts, (l) => l.checkpoint());
      emit(opts, { origin: cp.origin, size: cp.size, root: Buffer.from(cp.root).toString('base64'), checkpoint: cp.note }, () => cp.note.trimEnd());
    }));

  common(ledger.command('prove').description('inclusion proof of an entry').requiredOption('--index <n>', 'entry index').option('--size <s>', 'tree size (default: current)'))
    .action(action((opts: Opts & { index: string; size?: string }) => {
      const out = withLedger(opts, (l) => {
        const size = parseCount('--size', opts.size) ?? l.size();
        const cp = checkpointFor(l, size);
        return proofToJson(l.inclusionProof(parseCount('--index', opts.index)!, cp.size), cp.note);
      });
      emit(opts, out, () => `entry ${out.index} in tree of size ${out.treeSize}\nleaf hash ${out.leafHash}\n${out.hashes.map((h, i) => `  [${i}] ${h}`).join('\n')}\n\n${out.checkpoint}`);
    }));

  common(ledger.command('consistency').description('consistency proof between two tree sizes').requiredOption('--from <m>', 'older tree size').option('--to <n>', 'newer tree size (default: current)'))
    .action(action((opts: Opts & { from: string; to?: string }) => {
      const out = withLedger(opts, (l) => {
        const to = parseCount('--to', opts.to) ?? l.size();
        const cp = checkpointFor(l, to);
        return consistencyToJson(l.consistencyProof(parseCount('--from', opts.from)!, cp.size), cp.note);
      });
      emit(opts, out, () => `tree ${out.from} -> ${out.to}\n${out.hashes.map((h, i) => `  [${i}] ${h}`).join('\n')}\n\n${out.checkpoint}`);
    }));

  common(ledger.command('verify').description('audit the whole ledger: every entry, hash, chain link and checkpoint'))
    .action(action(async (opts: Opts) => {
      const home = openHome(resolveHomeDir(opts.home));
      const bar = startProgress('auditing', opts);
      const r = await home.ledger.audit({ onProgress: (p) => bar.update(p.done, p.total, p.phase) }).finally(() => { bar.done(); home.close(); });
      emit(opts, r, () => paintVerdicts((() => {
        if (r.ok) return `ok: ${r.size} entries, ${r.checkpoints} checkpoints verified${r.uncheckpointed ? ` (${r.uncheckpointed} entries after the latest checkpoint)` : ''}`;
        return [`TAMPERED: ${r.problems.length}${r.truncated ? '+' : ''} problems in ${r.size} entries`, ...r.problems.map((p) => `  - ${p.message}`)].join('\n');
      })()));
      return r.ok ? EXIT.ok : EXIT.failed;
    }));

  common(ledger.command('pubkey').description("print the log's verifier key"))
    .action(action((opts: Opts) => {
      const key = withLedger(opts, (l) => l.verifierKey);
      emit(opts, { verifierKey: key }, () => key);
    }));
}
