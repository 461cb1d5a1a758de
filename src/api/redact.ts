// What a client reads never names a place on the server's disk: job errors, job results and API
// errors pass through here. The home folder becomes "<home>", any other absolute path keeps only
// its last component ("<path>/name"), so a message still says which file, not where it lives.
import { resolve } from 'node:path';
import type { JsonObject, JsonValue } from '../../ledger/index.js';

// An absolute POSIX path: "/" then at least one segment, not preceded by a word character, ":" or
// "/" (so URLs like http://host/a/b and relative paths a/b are left alone).
const ABSOLUTE_PATH = /(?<![\w:/.~-])\/(?:[\w.@+-]+\/)*[\w.@+-]+\/?/g;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Redacts absolute paths in one message (homeDir first, so its files keep their relative name). */
export function redactPaths(text: string, homeDir?: string): string {
  let out = text;
  if (homeDir) {
    const home = resolve(homeDir);
    if (home !== '/') out = out.replace(new RegExp(`${escapeRe(home)}(?=/|\\b|$)`, 'g'), '<home>');
  }
  return out.replace(ABSOLUTE_PATH, (m) => {
    const parts = m.split('/').filter(Boolean);
    // Our own routes ("see /v1/jobs/ID") and one-segment names say nothing about the disk.
    if (parts.length < 2 || m.startsWith('/v1/')) return m;
    return `<path>/${parts[parts.length - 1]}`;
  });
}

/** The same over every string of a JSON value (job results). */
export function redactJson<T extends JsonValue | JsonObject>(value: T, homeDir?: string): T {
  const walk = (v: JsonValue): JsonValue => {
    if (typeof v === 'string') return redactPaths(v, homeDir);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x as JsonValue)]));
    return v;
  };
  return walk(value as JsonValue) as T;
}
