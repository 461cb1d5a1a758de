// Small helpers shared by the benchmark commands: timing, percentiles, tables, --json output.
import { writeFileSync } from 'node:fs';

export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summarize(samplesMs: number[]): { median: number; p99: number; n: number } {
  const s = [...samplesMs].sort((a, b) => a - b);
  return { median: percentile(s, 50), p99: percentile(s, 99), n: s.length };
}

export function flag(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

export interface Row {
  metric: string;
  value: string;
  target?: string;
  met?: boolean;
}

export function printTable(title: string, rows: Row[]): void {
  const w0 = Math.max(6, ...rows.map((r) => r.metric.length));
  const w1 = Math.max(5, ...rows.map((r) => r.value.length));
  const w2 = Math.max(6, ...rows.map((r) => (r.target ?? '').length));
  console.log(`\n${title}\n`);
  console.log(`| ${'metric'.padEnd(w0)} | ${'value'.padEnd(w1)} | ${'target'.padEnd(w2)} | met |`);
  console.log(`|${'-'.repeat(w0 + 2)}|${'-'.repeat(w1 + 2)}|${'-'.repeat(w2 + 2)}|-----|`);
  for (const r of rows) console.log(`| ${r.metric.padEnd(w0)} | ${r.value.padEnd(w1)} | ${(r.target ?? '').padEnd(w2)} | ${r.met === undefined ? '   ' : r.met ? 'yes' : 'NO '} |`);
}

export function writeJson(data: unknown): void {
  const file = flag('json');
  if (file) {
    writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
    console.log(`\nwrote ${file}`);
  }
}

export function machine(): Record<string, unknown> {
  return { node: process.version, platform: process.platform, arch: process.arch, cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency };
}
