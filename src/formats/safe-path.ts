// Files that a model names (ONNX external data, TF.js weight shards) must lie inside the model's
// folder: a model file is untrusted and must not make us read /etc/passwd or ../../secrets.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { FormatError } from './errors.js';

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}

/** Checks a relative path named by a model, without touching the disk. Returns the resolved path. */
export function resolveInside(dir: string, rel: string, what: string): string {
  const unsafe = (why: string) => new FormatError('FORMAT_UNSAFE_PATH', `${what} ${JSON.stringify(rel.slice(0, 100))} ${why}`);
  if (typeof rel !== 'string' || rel === '') throw new FormatError('FORMAT_CORRUPT', `${what} is empty or not a string`);
  if (rel.includes('\0') || isAbsolute(rel) || win32.isAbsolute(rel)) throw unsafe('is absolute');
  if (rel.split(/[\\/]/).includes('..')) throw unsafe('leaves the model folder');
  const full = resolve(dir, rel);
  if (!inside(resolve(dir), full)) throw unsafe('leaves the model folder');
  return full;
}

/** resolveInside, then follows links and checks again, so a symlink cannot point out of the folder. */
export async function resolveExistingInside(dir: string, rel: string, what: string): Promise<string> {
  const full = resolveInside(dir, rel, what);
  let real: string;
  try {
    real = await realpath(full);
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `${what} ${rel} not found next to the model`, { cause: err });
  }
  if (!inside(await realpath(dir), real)) {
    throw new FormatError('FORMAT_UNSAFE_PATH', `${what} ${JSON.stringify(rel.slice(0, 100))} is a link that leaves the model folder`);
  }
  return real;
}
