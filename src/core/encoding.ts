// Small strict codecs shared by the core's documents. Strict means one encoding per value:
// base64 with padding and no whitespace, lowercase hex, so that canonical bytes stay canonical.
import { CoreError } from './errors.js';

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const bad = (m: string) => new CoreError('CORE_BAD_DOCUMENT', m);

/** Strict base64 of exactly `length` bytes (when given), else CORE_BAD_DOCUMENT naming `what`. */
export function decodeBase64(v: unknown, what: string, length?: number): Uint8Array {
  if (typeof v !== 'string' || v.length > 1 << 20 || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v)) {
    throw bad(`${what} must be base64`);
  }
  const b = new Uint8Array(Buffer.from(v, 'base64'));
  if (toBase64(b) !== v) throw bad(`${what} must be canonical base64`);
  if (length !== undefined && b.length !== length) throw bad(`${what} must be ${length} bytes, got ${b.length}`);
  return b;
}

/** Lowercase hex of exactly `length` bytes, else CORE_BAD_DOCUMENT. */
export function decodeHex(v: unknown, what: string, length: number): Uint8Array {
  if (typeof v !== 'string' || v.length !== 2 * length || !/^[0-9a-f]*$/.test(v)) throw bad(`${what} must be ${2 * length} lowercase hex digits`);
  return new Uint8Array(Buffer.from(v, 'hex'));
}

/** A plain JSON object, else CORE_BAD_DOCUMENT. */
export function expectObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

/** Checks a document's `version` field, else CORE_UNSUPPORTED_VERSION / CORE_BAD_DOCUMENT. */
export function expectVersion(o: Record<string, unknown>, what: string, version: number): void {
  if (!Number.isInteger(o.version)) throw bad(`${what} has no integer version`);
  if (o.version !== version) throw new CoreError('CORE_UNSUPPORTED_VERSION', `${what} version ${String(o.version)} is not supported (this build reads version ${version})`);
}

/** Parses JSON bytes of bounded size, else CORE_BAD_DOCUMENT. */
export function parseJsonBytes(bytes: Uint8Array, what: string, maxBytes = 1 << 20): unknown {
  if (bytes.length > maxBytes) throw bad(`${what} is larger than ${maxBytes} bytes`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    throw bad(`${what} is not UTF-8 JSON`);
  }
}
