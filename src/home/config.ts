// The home's config.json beyond what init writes: service keys entitled to sign records
// ("serviceKeys": [verifier key strings]) and the time-stamping authority embed seals with
// ("tsa": { "url", "ca"? }). Read-only here; the owner edits the file.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homePaths, HomeError } from './home.js';

export interface HomeConfig {
  readonly serviceKeys: readonly string[];
  readonly tsa?: { readonly url: string; readonly ca?: string };
}

export function readHomeConfig(dir: string): HomeConfig {
  const path = homePaths(dir).config;
  if (!existsSync(path)) return { serviceKeys: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new HomeError('HOME_CORRUPT', 'config.json in the home folder is not valid JSON');
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const sk = o.serviceKeys ?? [];
  if (!Array.isArray(sk) || sk.length > 64 || !sk.every((k) => typeof k === 'string' && k.length > 0 && k.length <= 500)) throw new HomeError('HOME_CORRUPT', 'config.json serviceKeys must be a list of verifier key strings');
  const t = o.tsa;
  let tsa: HomeConfig['tsa'];
  if (t !== undefined) {
    const tt = t as Record<string, unknown>;
    if (typeof t !== 'object' || t === null || typeof tt.url !== 'string' || !/^https?:\/\//.test(tt.url) || (tt.ca !== undefined && typeof tt.ca !== 'string')) throw new HomeError('HOME_CORRUPT', 'config.json tsa must be { "url": "http(s)://...", "ca"?: "<file>" }');
    tsa = { url: tt.url, ...(typeof tt.ca === 'string' ? { ca: tt.ca } : {}) };
  }
  return { serviceKeys: sk as string[], ...(tsa ? { tsa } : {}) };
}

/**
 * Adds a verifier key to config.json "serviceKeys" (the guard enrols its own key this way at its
 * first start); keeps every other field. Written to a temporary file and renamed, 0600. True when
 * it was added, false when it was already listed.
 */
export function addServiceKey(dir: string, verifierKey: string): boolean {
  const path = homePaths(dir).config;
  const current = readHomeConfig(dir);
  if (current.serviceKeys.includes(verifierKey)) return false;
  const raw = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
  const next = { ...raw, serviceKeys: [...current.serviceKeys, verifierKey] };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return true;
}
