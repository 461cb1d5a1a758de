// Checks a checkpoint against a tlog-policy, as an offline verifier does: signed by one of the
// policy's logs, and cosigned (cosignature/v1) by witnesses that satisfy the quorum.
import { openNote, parseCheckpoint, type Checkpoint } from '../../ledger/index.js';
import { parseCosignatureLine, verifyCosignature } from './cosignature.js';
import { WitnessError } from './errors.js';
import { quorumMet, type Policy } from './policy.js';

export interface PolicyCheck {
  readonly checkpoint: Checkpoint;
  readonly body: string;
  /** Policy names of the witnesses whose cosignatures verified, with their timestamps. */
  readonly cosigners: readonly { readonly witness: string; readonly timestamp: number }[];
}

export function verifyCheckpointPolicy(note: string, policy: Policy, origin?: string): PolicyCheck {
  if (policy.logs.length === 0 && origin === undefined) throw new WitnessError('WITNESS_BAD_POLICY', 'the policy names no log; give the log key');
  const opened = openNote(note, policy.logs.map((l) => l.verifier)); // throws unless a listed log signed it
  const checkpoint = parseCheckpoint(opened.text);
  if (origin !== undefined && checkpoint.origin !== origin) throw new WitnessError('WITNESS_BAD_COSIGNATURE', `checkpoint origin is ${checkpoint.origin}, want ${origin}`);
  const logKey = policy.logs.find((l) => opened.verified.some((v) => v.name === l.verifier.name && v.keyId === l.verifier.keyId));
  if (!logKey || logKey.verifier.name !== checkpoint.origin) throw new WitnessError('WITNESS_BAD_COSIGNATURE', 'the checkpoint origin is not the name of the log key that signed it');
  const cosigners: { witness: string; timestamp: number }[] = [];
  const lines = note.slice(note.lastIndexOf('\n\n') + 2).split('\n').filter((l) => l !== '');
  for (const w of policy.witnesses.values()) {
    for (const line of lines) {
      const c = parseCosignatureLine(line);
      if (!c || c.name !== w.name || c.keyId !== w.keyId) continue;
      if (!verifyCosignature(w, opened.text, c)) throw new WitnessError('WITNESS_BAD_COSIGNATURE', `the cosignature by ${w.policyName} does not verify`);
      cosigners.push({ witness: w.policyName, timestamp: c.timestamp });
      break;
    }
  }
  if (!quorumMet(policy, new Set(cosigners.map((c) => c.witness)))) {
    // Cosignatures by keys the policy does not list count for nothing (tlog-cosignature: ignore them); name them.
    const listed = new Set([...policy.witnesses.values()].map((w) => `${w.name} ${w.keyId}`));
    const unlisted = lines.map(parseCosignatureLine).filter((c) => c !== undefined && !listed.has(`${c.name} ${c.keyId}`)).map((c) => c!.name);
    const others = unlisted.length ? `; ignored: cosignatures by keys the policy does not list (${unlisted.slice(0, 8).join(', ')}${unlisted.length > 8 ? ', ...' : ''})` : '';
    throw new WitnessError('WITNESS_QUORUM_NOT_MET', `the checkpoint's cosignatures (${cosigners.map((c) => c.witness).join(', ') || 'none'}) do not meet the policy's quorum ${policy.quorum}${others}`);
  }
  return { checkpoint, body: opened.text, cosigners };
}
