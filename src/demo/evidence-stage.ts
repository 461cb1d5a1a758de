// Stage 8 of the demo: the ownership evidence for the stolen copy, exported as a legal team
// would hand it over (evidence.json, report.pdf, VERIFY.md) and verified offline with nothing
// but the bundle, the two public keys and the suspect file.
import { join } from 'node:path';
import { exportEvidence, formatEvidenceResult, loadStoredOpening, verifyEvidence, type EvidenceResult } from '../evidence/index.js';
import { homeTrust, type Home } from '../home/index.js';
import type { VerificationReport } from '../verify/verify-suspect.js';

export async function evidenceStage(home: Home, dir: string, stolen: VerificationReport, suspectPath: string, passphrase: string, log: (line: string) => void): Promise<{ dir: string; pdf: string; result: EvidenceResult }> {
  const out = join(dir, 'evidence', `verification-${stolen.index}`);
  log(`8. evidence: export the ownership evidence for verification #${stolen.index} and check it offline`);
  const opening = await loadStoredOpening(home.ledger, dir, stolen.index, passphrase);
  const { files } = await exportEvidence({ ledger: home.ledger, verificationIndex: stolen.index, ownerSignerKey: home.readOwnerSignerKey(), opening, outDir: out, trust: homeTrust(home), actor: 'demo' });
  for (const f of files) log(`   wrote ${f}`);
  const result = await verifyEvidence(out, { logKey: home.ledger.verifierKey, ownerKey: home.ownerVerifierKey, suspect: suspectPath });
  for (const line of formatEvidenceResult(result).split('\n')) log(`   ${line}`);
  const pdf = join(out, 'report.pdf');
  log(`   The report for people who are not engineers: ${pdf}`);
  return { dir: out, pdf, result };
}
