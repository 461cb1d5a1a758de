// The readable summary of a verification: every number that led to the decision.
import type { VerificationReport } from './verify-suspect.js';

const p = (log10: number, v: number) => (v >= 1e-4 ? v.toPrecision(3) : v > 0 ? v.toExponential(2) : `10^${log10.toFixed(1)}`);

export function formatReport(r: VerificationReport): string {
  const lines = [
    `${r.decision.owned ? 'OWNED' : 'NOT SHOWN'} (${r.decision.owned ? 'the mark is there' : 'no significant mark'}): ${r.decision.reason}`,
    ...(r.mark ? [`  mark         ${r.mark.scheme} mark of ${r.mark.model} (watermark.committed #${r.mark.commitmentIndex})`] : []),
    `  suspect      ${r.record.suspect.kind === 'file' ? `${r.record.suspect.descriptor.name} sha256:${r.record.suspect.descriptor.digest.sha256}` : `${r.record.suspect.url} (${r.record.suspect.protocol})`}`,
  ];
  if (r.weight) {
    const w = r.weight;
    lines.push(
      `  weight mark  ${w.best.matches}/${w.bits} bits match (BER ${w.best.ber.toFixed(4)}) in ${w.best.tensor} read as ${w.best.layout} [${w.best.shape.join(', ')}]`,
      `               p = P[X >= ${w.best.matches}], X ~ Binomial(${w.bits}, 1/2) = ${p(w.best.log10PValue, w.best.pValue)}`,
      `               ${w.candidates} candidate tensor layout(s) searched by shape: Bonferroni p = ${w.candidates} x p = ${p(w.log10CorrectedPValue, w.correctedPValue)}`,
    );
  }
  if (r.trigger) {
    const t = r.trigger;
    lines.push(
      `  trigger set  ${t.matches}/${t.n} triggers answered with their label (expected by chance ${t.expected.toFixed(1)})`,
      `               p = P[X >= ${t.matches}], X ~ Binomial(${t.n}, ${t.chanceRate.toFixed(4)}) = ${p(t.log10PValue, t.pValue)}   chance = max(1/${t.classes}, calibrated rate)`,
      `               ${r.calibration?.note ?? ''}`,
      `               queried via ${t.source}${r.requests === undefined ? '' : `, ${r.requests} HTTP requests`}`,
    );
  }
  if (r.fingerprint) {
    const f = r.fingerprint;
    lines.push(
      `  fingerprint  ${f.matches}/${f.n} fingerprint examples answered with their target (fingerprint.committed #${f.commitment.index})`,
      `               p = P[X >= ${f.matches}], X ~ Binomial(${f.n}, ${f.chanceRate.toFixed(4)}) = ${p(f.log10PValue, f.pValue)}   chance = max(1/${f.classes}, highest of ${f.nullDistribution.length} fresh reference models, calibration #${f.calibration})`,
    );
  }
  lines.push(
    `  decision     ${r.decision.tests} test(s); family p-value ${p(r.decision.log10FamilyPValue, r.decision.familyPValue)} vs alpha ${r.decision.alpha} -> owned = ${r.decision.owned}`,
    `  recorded     verification.recorded #${r.index} (signed)`,
  );
  if (r.tried.length > 1) lines.push(`  commitments  ${r.tried.length} live commitments tried: ${r.tried.map((t) => `#${t.index} log10 p ${t.log10PValue.toFixed(1)}`).join(', ')}; matched #${r.mark?.commitmentIndex ?? "none"}`);
  if (r.orphans.length > 0) lines.push(`  skipped      orphan commitment(s) ${r.orphans.map((i) => `#${i}`).join(', ')}: no marked model was registered after them`);
  for (const p of r.problems) lines.push(`  ignored      entry ${p.index} (${p.type}): ${p.code}: ${p.message.replace(/^entry \d+: /, '')}`);
  return lines.join('\n');
}
