// What `hallmark version` says about the build: the package version and the commit it was built
// from. A git checkout answers from git (and says when the tree has local changes); an installed
// copy answers from dist/build-info.json, which `npm run build` / `prepare` writes.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  readonly version: string;
  readonly commit: string;
  readonly dirty?: boolean;
}

/** The package root: two levels above dist/cli/ (or cli/ when run from source). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return dir;
}

function fromGit(root: string): { commit: string; dirty: boolean } | undefined {
  if (!existsSync(join(root, '.git'))) return undefined;
  try {
    const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 3000 }).trim();
    const status = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 3000 });
    return /^[0-9a-f]{7,40}$/.test(commit) ? { commit, dirty: status.trim().length > 0 } : undefined;
  } catch {
    return undefined;
  }
}

function fromFile(root: string): { commit: string; dirty?: boolean } | undefined {
  try {
    const j = JSON.parse(readFileSync(join(root, 'dist', 'build-info.json'), 'utf8')) as { commit?: unknown; dirty?: unknown };
    return typeof j.commit === 'string' ? { commit: j.commit, ...(typeof j.dirty === 'boolean' ? { dirty: j.dirty } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

export function readBuildInfo(root: string = packageRoot()): BuildInfo {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const src = fromGit(root) ?? fromFile(root) ?? { commit: 'unknown' };
  return { version: pkg.version, ...src };
}
