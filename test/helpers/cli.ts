// Runs the built CLI (dist/) as a user would, with its own HALLMARK_HOME.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './paths.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function hallmark(args: string[], opts: { home?: string; input?: string; env?: Record<string, string>; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], {
    encoding: 'utf8',
    input: opts.input ?? '',
    timeout: opts.timeout ?? 120_000,
    env: { ...process.env, ...(opts.home ? { HALLMARK_HOME: opts.home } : {}), ...opts.env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function hallmarkJson<T = Record<string, unknown>>(args: string[], opts: Parameters<typeof hallmark>[1] = {}): T {
  const r = hallmark([...args, '--json'], opts);
  if (r.status !== 0) throw new Error(`hallmark ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
