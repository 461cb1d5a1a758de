// The data of the report's two plots, shared by the PDF (report-pdf.ts) and the console's SVG:
// matching weight bits against Binomial(bits, 1/2), and trigger agreement against chance (the
// calibrated models' rates when recorded, else Binomial(n, chance rate)).
import type { VerificationRecord } from '../records/index.js';
import { binomialPmf } from './statistics.js';

export interface PlotData {
  readonly values: number[];
  readonly xMin: number;
  readonly xMax: number;
  /** Where the suspect's score sits on the x axis. */
  readonly mark: number;
  readonly markLabel: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly title: string;
}

export function weightPlot(v: VerificationRecord): PlotData | undefined {
  if (!v.weight) return undefined;
  return {
    values: binomialPmf(v.weight.bits, 0.5), xMin: 0, xMax: v.weight.bits, mark: v.weight.matches + 0.5,
    markLabel: `suspect: ${v.weight.matches} of ${v.weight.bits}`, xLabel: `number of matching bits out of ${v.weight.bits}`, yLabel: 'chance',
    title: 'Weight watermark: matching bits, against coin tossing (Binomial(T, 1/2))',
  };
}

export function triggerPlot(v: VerificationRecord): PlotData | undefined {
  const t = v.trigger;
  if (!t) return undefined;
  const bins = 20;
  const counts = new Array<number>(bins).fill(0);
  const dist = t.nullDistribution && t.nullDistribution.length > 0 ? t.nullDistribution : undefined;
  if (dist) for (const d of dist) counts[Math.min(bins - 1, Math.floor(d * bins))]! += 1;
  else binomialPmf(t.n, t.chanceRate).forEach((p, k) => (counts[Math.min(bins - 1, Math.floor((k / t.n) * bins))]! += p));
  const rate = t.matches / t.n;
  return {
    values: counts, xMin: 0, xMax: 1, mark: rate, markLabel: `suspect: ${(rate * 100).toFixed(0)}% agreement`,
    xLabel: 'share of secret inputs answered with our secret label', yLabel: dist ? 'models' : 'chance',
    title: dist ? `Trigger set: the suspect against ${dist.length} independently trained unmarked models` : 'Trigger set: the suspect against chance agreement',
  };
}
