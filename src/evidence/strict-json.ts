// Bundles are read as exactly the bytes hallmark writes: JSON.stringify(value, null, 2) + "\n",
// base64 in its one canonical spelling, hex in lower case. A file that parses to the same value
// but is spelled differently was not written by us, and refusing it means that every single-byte
// change to a bundle is detected rather than silently normalised away.
import { fromBase64, toBase64 } from '../../ledger/index.js';
import { malformed } from './errors.js';

export function formatBundleJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Parses a bundle file, bounded in size, and insists on the canonical spelling. */
export function parseBundleJson(text: string, what: string, maxBytes: number): unknown {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`);
  if (Buffer.byteLength(text) > maxBytes) throw malformed(`${what} is larger than ${maxBytes} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw malformed(`${what} is not valid JSON`);
  }
  if (formatBundleJson(v) !== text) throw malformed(`${what} is not in the exact form hallmark writes (it was edited or re-serialised)`);
  return v;
}

/** Canonical base64 only: re-encoding must give back the same string. */
export function decodeBase64(v: unknown, what: string, maxBytes = 16 << 20): Uint8Array {
  if (typeof v !== 'string' || v.length > Math.ceil(maxBytes / 3) * 4) throw malformed(`${what} is not a base64 string within limits`);
  const b = fromBase64(v);
  if (!b || toBase64(b) !== v) throw malformed(`${what} is not canonical base64`);
  return b;
}

export function obj(v: unknown, what: string, keys: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${what} is not an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!keys.includes(k) && !optional.includes(k)) throw malformed(`${what} has an unknown field "${k.slice(0, 40)}"`);
  for (const k of keys) if (!(k in o)) throw malformed(`${what} has no field "${k}"`);
  return o;
}

export function arr(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v) || v.length > max) throw malformed(`${what} must be a list of at most ${max} items`);
  return v;
}

export function str(v: unknown, what: string, max = 100_000): string {
  if (typeof v !== 'string' || v.length > max) throw malformed(`${what} must be a string of at most ${max} characters`);
  return v;
}

export function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw malformed(`${what} must be a non-negative integer`);
  return v;
}

export function hex64(v: unknown, what: string): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) throw malformed(`${what} must be 64 lower-case hex digits`);
  return v;
}
