// Stage 7 of the demo: the stolen copy, as a thief would ship it (the marked TF.js model
// converted to ONNX by `hallmark model convert`'s converter, under another name), verified
// white-box and black-box; then the unmarked original, which must not be accused.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbedSummary } from '../embed/index.js';
import { convertTfjsToOnnx } from '../formats/convert-tfjs-to-onnx.js';
import { homeTrust, ownerRecordSigner, type Home } from '../home/index.js';
import { formatReport } from '../verify/report-text.js';
import { verifySuspect, type VerificationReport } from '../verify/verify-suspect.js';

export async function verifyStage(home: Home, dir: string, embed: EmbedSummary, passphrase: string, log: (line: string) => void): Promise<{ stolen: VerificationReport; original: VerificationReport; stolenPath: string }> {
  const h = { dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey };
  const signing = { signer: ownerRecordSigner(home), trust: homeTrust(home) };
  const stolenPath = join(dir, 'models', 'totally-original-model.onnx');
  log('7. verify: a thief converts the marked model to ONNX and ships it under another name');
  writeFileSync(stolenPath, await convertTfjsToOnnx(embed.output.path));
  log(`   ${stolenPath}`);
  const stolen = await verifySuspect({ home: h, passphrase, suspect: { path: stolenPath }, actor: 'demo', ...signing });
  for (const line of formatReport(stolen).split('\n')) log(`   ${line}`);
  log('   and the unmarked original fixture, checked the same way:');
  const original = await verifySuspect({ home: h, passphrase, suspect: { path: embed.input.path }, actor: 'demo', ...signing });
  log(`   ${original.decision.owned ? 'OWNED (unexpected!)' : 'NOT SHOWN'}: ${original.decision.reason}`);
  return { stolen, original, stolenPath };
}
