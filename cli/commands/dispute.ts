// hallmark dispute EVIDENCE_A EVIDENCE_B [--models A_INPUT,B_INPUT]: which of two ownership claims is prior.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { formatDispute, settleDispute } from '../../src/evidence/index.js';
import { readCertificates } from '../../src/tsa/index.js';
import { action, emit, EXIT } from '../output.js';

interface Opts {
  models?: string;
  alpha?: string;
  tsaCa?: string;
  json?: boolean;
}

export function registerDispute(program: Command): void {
  program
    .command('dispute <evidenceA> <evidenceB>')
    .description("weigh two ownership claims on one suspect: each mark in the other's committed input model, independent time anchors, and fingerprints committed before the other party appeared")
    .option('--models <a,b>', "the committed input model files of claim A and claim B (comma-separated; give '' to skip one)")
    .option('--alpha <a>', 'significance level for finding a mark in the other claimant\'s model', '1e-6')
    .option('--tsa-ca <file>', 'CA certificate(s) to check RFC 3161 tokens against')
    .option('--json', 'print JSON')
    .action(action(async (evidenceA: string, evidenceB: string, opts: Opts) => {
      const alpha = Number(opts.alpha);
      if (!(alpha > 0 && alpha < 1)) throw new RangeError(`--alpha must be a number in (0, 1), got "${opts.alpha}"`);
      const parts = opts.models === undefined ? [] : opts.models.split(',');
      if (opts.models !== undefined && parts.length !== 2) throw new RangeError('--models takes two paths, A_INPUT,B_INPUT');
      const r = await settleDispute(evidenceA, evidenceB, {
        alpha,
        models: { ...(parts[0] ? { a: parts[0] } : {}), ...(parts[1] ? { b: parts[1] } : {}) },
        ...(opts.tsaCa ? { tsaCaCerts: readCertificates(readFileSync(opts.tsaCa), opts.tsaCa) } : {}),
      });
      const { a, b, ...rest } = r;
      const brief = (c: typeof a) => ({ dir: c.dir, owner: c.owner, committedModel: c.committedModel, commitmentIndex: c.commitmentIndex, markedModel: c.markedModel, suspect: c.suspect, anchor: c.anchor ?? null });
      emit(opts, { ...rest, a: brief(a), b: brief(b) }, () => formatDispute(r));
      return r.prior ? EXIT.ok : EXIT.failed;
    }));
}
