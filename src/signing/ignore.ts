// Which paths a signature leaves out, as the model_signing CLI decides: --ignore-paths name
// files relative to the working directory and count only when inside the model; the signature
// file itself and the git files (.git, .gitattributes, .github, .gitignore) are always left out
// unless asked otherwise. The bundle records them relative to the model.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathComponents, posixName } from './paths.js';

export const GIT_PATHS = ['.git', '.gitattributes', '.github', '.gitignore'] as const;

/** Relative component lists, inside the model, of the given paths (resolved against cwd). */
export function resolveIgnorePaths(modelPath: string, paths: readonly string[]): string[][] {
  const root = resolve(modelPath);
  const out: string[][] = [];
  for (const p of paths) {
    const rel = relative(root, resolve(p));
    if (rel === '') throw new RangeError(`--ignore-paths ${p} is the model itself`);
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) continue;
    out.push(pathComponents(rel.split(sep).join('/')));
  }
  return out;
}

export interface IgnoreOptions {
  /** --ignore-paths as given on the command line. */
  readonly ignorePaths?: readonly string[];
  /** The signature file: left out when it lies inside the model. */
  readonly signaturePath?: string;
  /** Default true. */
  readonly ignoreGitPaths?: boolean;
}

/** Everything to leave out, relative to the model, deduplicated, in a stable order. */
export function ignoredComponents(modelPath: string, o: IgnoreOptions): string[][] {
  const list = resolveIgnorePaths(modelPath, [...(o.ignorePaths ?? []), ...(o.signaturePath ? [o.signaturePath] : [])]);
  if (o.ignoreGitPaths ?? true) list.push(...GIT_PATHS.map((g) => [g]));
  const seen = new Set<string>();
  return list.filter((c) => {
    const k = posixName(c);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
