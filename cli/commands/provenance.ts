// hallmark provenance MODEL_ID --out FILE; hallmark provenance verify FILE --pubkey KEY
import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homeWitnessing } from '../../src/witness/index.js';
import { buildProvenanceBundle, formatBundleJson, formatProvenance, verifyProvenanceBundle } from '../../src/evidence/index.js';
import { openHome, resolveHomeDir } from '../../src/home/index.js';
import { listTimestamps, readCertificates } from '../../src/tsa/index.js';
import { action, emit } from '../output.js';
import { isTlogProofText, verifyTlogProofFile } from './ledger-publish.js';

/** A key on the command line, or a file that holds one. */
export function readKeyArg(v: string): string {
  return !v.includes('+') && existsSync(v) ? readFileSync(v, 'utf8').trim() : v.trim();
}

export function registerProvenance(program: Command): void {
  const cmd = program
    .command('provenance')
    .description("write a model's provenance proof: lineage entries, inclusion proofs, a signed checkpoint and a DSSE-signed SLSA statement")
    .argument('[model]', 'model id (model:sha256:...)')
    .option('--out <file>', 'where to write the bundle')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action((model: string | undefined, opts: { out?: string; home?: string; json?: boolean }) => {
      if (!model || !opts.out) throw new TypeError('usage: hallmark provenance MODEL_ID --out FILE');
      const home = openHome(resolveHomeDir(opts.home));
      try {
        const witnessing = homeWitnessing(home.paths.dir); // issue 15
        const bundle = buildProvenanceBundle({ ledger: home.ledger, modelId: model, ownerSignerKey: home.readOwnerSignerKey(), timestamps: listTimestamps(home.paths.dir), ...(witnessing ? { witnessing } : {}) });
        writeFileSync(opts.out, formatBundleJson(bundle), { flag: 'wx' });
        emit(opts, { out: opts.out, model, entries: bundle.entries.length, timestamps: bundle.timestamps.length, logVerifierKey: bundle.log.verifierKey }, () =>
          `wrote ${opts.out}: ${bundle.entries.length} entries, ${bundle.timestamps.length} RFC 3161 timestamps\nverify with: hallmark provenance verify ${opts.out} --pubkey '${bundle.log.verifierKey}' --owner-key '${bundle.owner.verifierKey}'`);
      } finally {
        home.close();
      }
    }));

  cmd
    .command('verify <file>')
    .description('check a provenance bundle (or a tlog-proof from "ledger proof") offline against the log key; prints the lineage it proves')
    .requiredOption('--pubkey <key>', "the log's verifier key (name+keyid+base64), or a file holding it")
    .option('--owner-key <key>', "the owner's verifier key; without it, the key named in the bundle is reported")
    .option('--tsa-ca <file>', 'CA certificate(s) (PEM or DER) to check RFC 3161 tokens against')
    .option('--policy <file>', 'tlog-policy: require the bundle\'s checkpoint to be witnessed per this policy')
    .option('--json', 'print JSON')
    .action(action(async (file: string, opts: { pubkey: string; ownerKey?: string; tsaCa?: string; policy?: string; json?: boolean }) => {
      const text = readFileSync(file, 'utf8');
      // issue 15: a C2SP tlog-proof (`hallmark ledger proof`) is checked here too, against the log key and the policy.
      if (isTlogProofText(text)) return verifyTlogProofFile(text, { logKey: readKeyArg(opts.pubkey), ...(opts.policy ? { policy: readFileSync(opts.policy, 'utf8') } : {}), ...(opts.json ? { json: true } : {}) });
      const r = await verifyProvenanceBundle(text, {
        logKey: readKeyArg(opts.pubkey),
        ...(opts.ownerKey ? { ownerKey: readKeyArg(opts.ownerKey) } : {}),
        ...(opts.tsaCa ? { tsaCaCerts: readCertificates(readFileSync(opts.tsaCa), opts.tsaCa) } : {}),
        ...(opts.policy ? { policy: readFileSync(opts.policy, 'utf8') } : {}),
      });
      const models = [...r.closure.models.entries()].map(([id, m]) => ({ id, name: m.record.model.name, format: m.record.format, entry: m.index }));
      const datasets = [...r.closure.datasets.entries()].map(([id, d]) => ({ id, name: d.record.dataset.name, items: d.record.items, entry: d.index }));
      const derivations = r.closure.derivations.map((d) => ({ entry: d.index, operation: d.record.operation, inputs: d.record.inputs, outputs: d.record.outputs }));
      const commitments = r.closure.commitments.map((c) => ({ entry: c.index, model: c.record.model, scheme: c.record.scheme, commitment: c.record.commitment }));
      emit(opts, { ok: true, model: r.model, origin: r.origin, size: r.size, ownerKey: r.ownerKey, ownerKeyPinned: r.ownerKeyPinned, models, datasets, derivations, commitments, timestamps: r.timestamps }, () => formatProvenance(r));
    }));
}
