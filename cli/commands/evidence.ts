// hallmark evidence export --verification ID --out DIR; hallmark evidence verify DIR [--suspect FILE]
import type { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { EvidenceError, exportEvidence, formatEvidenceResult, formatGuardEvidenceResult, isGuardVerificationAt, loadStoredOpening, revealGuardSets, verifyAnyEvidence } from '../../src/evidence/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { homeTrust, makePrivate, openHome, resolveHomeDir, type Home } from '../../src/home/index.js';
import { listTimestamps, readCertificates } from '../../src/tsa/index.js';
import { homeWitnessing } from '../../src/witness/index.js';
import { action, emit, parseCount } from '../output.js';
import { readKeyArg } from './provenance.js';
import { isTlogProofText, verifyTlogProofFile } from './ledger-publish.js';

function readOpening(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new EvidenceError('EVIDENCE_INVALID', `${file} is not a JSON commitment opening`);
  }
}

/** The fingerprint set the verification at `index` tested, decrypted from the home. */
async function revealFingerprint(home: Home, index: number): Promise<unknown> {
  const { readRecordAt, verificationRecorded } = await import('../../src/records/index.js');
  const f = readRecordAt(home.ledger, index, verificationRecorded, homeTrust(home)).record.fingerprint;
  if (!f) throw new EvidenceError('EVIDENCE_INVALID', `verification entry ${index} tested no fingerprint; there is nothing to reveal`);
  const { revealFingerprintOpening } = await import('../../src/fingerprint/index.js');
  return revealFingerprintOpening({ dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, await resolvePassphrase(), f.commitment.index);
}

export function registerEvidence(program: Command): void {
  const ev = program.command('evidence').description('ownership evidence for legal teams: export a signed bundle with a report, verify one offline');

  ev.command('export')
    .description('write evidence.json (DSSE-signed), report.pdf and VERIFY.md for a verification.recorded entry')
    .requiredOption('--verification <index>', 'ledger index of the verification.recorded entry')
    .requiredOption('--out <dir>', 'output folder (must not hold an evidence.json yet)')
    .option('--opening <file>', 'the commitment opening document as JSON (default: decrypt it from the home with $HALLMARK_PASSPHRASE or a prompt)')
    .option('--guard-client <ids>', 'guard-mark verifications: the client(s) whose watermark set the bundle reveals (default: the one with the smallest p-value); no other client\'s set is revealed')
    .option('--reveal-fingerprint', 'put the fingerprint set the verification tested into the bundle (a dispute: a third party can query the suspect with it; the set is public from then on)')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--json', 'print JSON')
    .action(action(async (opts: { verification: string; out: string; opening?: string; guardClient?: string; revealFingerprint?: boolean; home?: string; json?: boolean }) => {
      const home = openHome(resolveHomeDir(opts.home));
      try {
        const index = parseCount('--verification', opts.verification)!;
        if (isGuardVerificationAt(home.ledger, index)) return await exportGuard(home, index, opts);
        if (opts.guardClient) throw new EvidenceError('EVIDENCE_INVALID', `verification entry ${index} tested no guard marks; --guard-client applies to guard-mark verifications`);
        const opening = opts.opening ? readOpening(opts.opening) : await loadStoredOpening(home.ledger, home.paths.dir, index, await resolvePassphrase());
        const witnessing = homeWitnessing(home.paths.dir); // issue 15: the cosigned checkpoint and the policy
        const fingerprintOpening = opts.revealFingerprint ? await revealFingerprint(home, index) : undefined;
        const r = await exportEvidence({
          ...(fingerprintOpening === undefined ? {} : { fingerprintOpening }),
          ledger: home.ledger, verificationIndex: index, ownerSignerKey: home.readOwnerSignerKey(),
          opening, timestamps: listTimestamps(home.paths.dir), outDir: opts.out, trust: homeTrust(home), actor: 'cli',
          ...(witnessing ? { witnessing } : {}),
        });
        makePrivate(opts.out, { recursive: true }); // evidence.json reveals the watermark secret: 0600 in 0700
        const witnessed = r.witnessedSize === undefined ? 'not witnessed (no tlog-policy and published checkpoint in the home; see "hallmark ledger publish")' : `witnessed: carries the cosigned checkpoint of size ${r.witnessedSize} and the tlog-policy${r.witnessedSize <= index ? ` (the verification, entry ${index}, is after it: run "hallmark ledger publish" and export again to have it witnessed)` : ''}`;
        emit(opts, { files: r.files, exportedIndex: r.exportedIndex, ownerKey: home.ownerVerifierKey, logKey: home.ledger.verifierKey, ...(r.witnessedSize !== undefined ? { witnessedSize: r.witnessedSize } : {}) }, () =>
          [`wrote ${r.files.join(', ')}`, `report for people: ${r.files[1]}`, witnessed, `verify with: hallmark evidence verify ${opts.out} --owner-key '${home.ownerVerifierKey}' --pubkey '${home.ledger.verifierKey}'${r.witnessedSize !== undefined ? ' [--policy TLOG_POLICY]' : ''}`].join('\n'));
      } finally {
        home.close();
      }
    }));

  ev.command('verify <dir>')
    .description('check every signature, proof and the commitment opening of an evidence folder (or a tlog-proof from "ledger proof"), offline')
    .option('--pubkey <key>', "the log's verifier key (or a file holding it); default: the one named in the bundle")
    .option('--owner-key <key>', "the owner's verifier key (or a file holding it); default: the one named in the bundle")
    .option('--tsa-ca <file>', 'CA certificate(s) to check RFC 3161 tokens against')
    .option('--suspect <file>', 'the suspect model file: compare its digest and re-run the extraction')
    .option('--policy <file>', 'tlog-policy obtained independently: require a checkpoint cosigned per this policy that covers the commitment')
    .option('--json', 'print JSON')
    .action(action(async (dir: string, opts: { pubkey?: string; ownerKey?: string; tsaCa?: string; suspect?: string; policy?: string; json?: boolean }) => {
      // issue 15: a C2SP tlog-proof file (`hallmark ledger proof`) is checked against --pubkey and/or --policy.
      const proof = statSync(dir, { throwIfNoEntry: false })?.isFile() ? readFileSync(dir, 'utf8') : undefined;
      if (proof !== undefined && isTlogProofText(proof)) {
        if (!opts.pubkey && !opts.policy) throw new RangeError('a tlog-proof names no key: give --pubkey or --policy');
        return verifyTlogProofFile(proof, { ...(opts.pubkey ? { logKey: readKeyArg(opts.pubkey) } : {}), ...(opts.policy ? { policy: readFileSync(opts.policy, 'utf8') } : {}), ...(opts.json ? { json: true } : {}) });
      }
      const r = await verifyAnyEvidence(dir, {
        ...(opts.pubkey ? { logKey: readKeyArg(opts.pubkey) } : {}),
        ...(opts.ownerKey ? { ownerKey: readKeyArg(opts.ownerKey) } : {}),
        ...(opts.tsaCa ? { tsaCaCerts: readCertificates(readFileSync(opts.tsaCa), opts.tsaCa) } : {}),
        ...(opts.suspect ? { suspect: opts.suspect } : {}),
        ...(opts.policy ? { policy: readFileSync(opts.policy, 'utf8') } : {}),
      });
      if ('kind' in r) {
        return emit(opts, { ok: true, kind: 'guard', ownerKey: r.ownerKey, recordSigner: r.recordSigner, reChecked: r.clients.some((c) => c.requeried), logKey: r.logKey, pinned: r.pinned, checks: r.checks, verification: r.verification, clients: r.clients, timestamps: r.timestamps, ...(r.witnessing ? { witnessing: r.witnessing } : {}) }, () => formatGuardEvidenceResult(r));
      }
      emit(opts, { ok: true, model: r.model, ownerKey: r.ownerKey, recordSigner: r.recordSigner, reChecked: r.reExtraction !== undefined, logKey: r.logKey, pinned: r.pinned, checks: r.checks, verification: r.verification, timestamps: r.timestamps, ...(r.reExtraction ? { reExtraction: r.reExtraction } : {}), ...(r.witnessing ? { witnessing: r.witnessing } : {}) }, () => formatEvidenceResult(r));
    }));
}

/** issue 12: evidence for a guard-mark verification; reveals the claimed client's watermark set (client data). */
async function exportGuard(home: Home, index: number, opts: { out: string; opening?: string; guardClient?: string; revealFingerprint?: boolean; json?: boolean }): Promise<void> {
  if (opts.opening || opts.revealFingerprint) throw new EvidenceError('EVIDENCE_INVALID', `verification entry ${index} tested guard marks: it has no commitment opening or fingerprint (--opening, --reveal-fingerprint do not apply)`);
  const clients = opts.guardClient ? opts.guardClient.split(',').map((c) => c.trim()).filter(Boolean) : undefined;
  const guardMarks = await revealGuardSets({ dir: home.paths.dir, ledger: home.ledger, trust: homeTrust(home) }, await resolvePassphrase(), index, clients);
  const witnessing = homeWitnessing(home.paths.dir);
  const r = await exportEvidence({
    ledger: home.ledger, verificationIndex: index, ownerSignerKey: home.readOwnerSignerKey(), opening: undefined, guardMarks,
    timestamps: listTimestamps(home.paths.dir), outDir: opts.out, trust: homeTrust(home), actor: 'cli', ...(witnessing ? { witnessing } : {}),
  });
  makePrivate(opts.out, { recursive: true }); // evidence.json holds the claimed client's inputs: 0600 in 0700
  const revealed = r.revealed ?? [];
  emit(opts, { files: r.files, exportedIndex: r.exportedIndex, revealed, ownerKey: home.ownerVerifierKey, logKey: home.ledger.verifierKey }, () => [
    `wrote ${r.files.join(', ')}`,
    `REVEALED: the watermark set of client(s) ${revealed.join(', ')} (their marked inputs and the labels given) is in evidence.json: it holds that client's data; share the folder only with whom must check the claim. No other client's set and no guard key is in it.`,
    `verify with: hallmark evidence verify ${opts.out} --owner-key '${home.ownerVerifierKey}' --pubkey '${home.ledger.verifierKey}' [--suspect FILE]`,
  ].join('\n'));
}
