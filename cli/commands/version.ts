// hallmark version [--json] (also --version, -v, -V): the build, Node, the TF.js backend `auto`
// would pick (and why it passed over the others) and onnxruntime's version.
import type { Command } from 'commander';
import { createRequire } from 'node:module';
import { readBuildInfo } from '../build-info.js';
import { action, emit } from '../output.js';

interface VersionReport {
  hallmark: string;
  commit: string;
  dirty?: boolean;
  node: string;
  platform: string;
  backend: { name: string; detail: string; skipped: { name: string; reason: string }[] } | { error: string };
  onnxruntime: string;
}

function onnxruntimeVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function autoBackend(): Promise<VersionReport['backend']> {
  try {
    const { selectBackend } = await import('../../src/train/index.js');
    const b = await selectBackend('auto');
    return { name: b.name, detail: b.detail, skipped: [...b.skipped] };
  } catch (e) {
    return { error: (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '' };
  }
}

export async function collectVersion(): Promise<VersionReport> {
  const b = readBuildInfo();
  return {
    hallmark: b.version, commit: b.commit, ...(b.dirty !== undefined ? { dirty: b.dirty } : {}),
    node: process.version, platform: `${process.platform}-${process.arch}`,
    backend: await autoBackend(), onnxruntime: onnxruntimeVersion(),
  };
}

const reason = (r: string) => (/Cannot find (package|module)/.test(r) ? 'not installed' : r);

function describe(v: VersionReport): string {
  const backend = 'error' in v.backend
    ? `unavailable (${v.backend.error})`
    : `${v.backend.detail}${v.backend.skipped.length ? `\n  passed over: ${v.backend.skipped.map((s) => `${s.name} (${reason(s.reason)})`).join('; ')}` : ''}`;
  return [
    `hallmark ${v.hallmark} (commit ${v.commit}${v.dirty ? ', with local changes' : ''})`,
    `node ${v.node} ${v.platform}`,
    `training backend (auto): ${backend}`,
    `onnxruntime-node ${v.onnxruntime}`,
  ].join('\n');
}

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version, commit, Node, the training backend `auto` picks and onnxruntime')
    .option('--json', 'print JSON')
    .action(action(async (opts: { json?: boolean }) => {
      const v = await collectVersion();
      emit(opts, v, () => describe(v));
    }));
}
