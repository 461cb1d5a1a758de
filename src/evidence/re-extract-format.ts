// What `evidence verify --suspect` compared (re-extract.ts), and its lines for people. Kept apart
// so printing a result does not load the model formats and runtimes re-extraction needs.

/** Relative tolerance for recomputed p-values and rates. */
export const P_VALUE_TOLERANCE = 1e-9;

export interface ComparedNumber {
  readonly mark: 'weight' | 'trigger' | 'decision';
  readonly quantity: string;
  readonly recorded: number | string | boolean;
  readonly recomputed: number | string | boolean;
  /** 'exact' for counts, names and the decision; a relative tolerance for p-values and rates. */
  readonly rule: 'exact' | 'relative';
  readonly agrees: boolean;
}

export interface ReExtraction {
  readonly format: string;
  readonly digest: string;
  readonly compared: readonly ComparedNumber[];
  /** Why a recorded test was not re-run (e.g. a trigger test on a file with no graph). */
  readonly skipped: readonly string[];
  /** What answered the trigger queries, when they ran. */
  readonly classifier?: string;
}

export function fmt(v: number | string | boolean): string {
  if (typeof v !== 'number') return JSON.stringify(v).slice(0, 120);
  return Number.isInteger(v) ? String(v) : v.toPrecision(12);
}

/** One line per compared number, for people. */
export function formatReExtraction(r: ReExtraction): string[] {
  const lines = r.compared.map((c) => `${c.agrees ? 'ok' : 'DIFFERS'}  ${c.mark} ${c.quantity}: recorded ${fmt(c.recorded)}, recomputed ${fmt(c.recomputed)}${c.rule === 'relative' ? ` (relative ${P_VALUE_TOLERANCE})` : ''}`);
  for (const s of r.skipped) lines.push(`skipped  ${s}`);
  return lines;
}
