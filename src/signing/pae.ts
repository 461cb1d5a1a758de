// DSSE v1 Pre-Authentication Encoding (https://github.com/secure-systems-lab/dsse/blob/v1.0.0/protocol.md):
// "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes.
// paeCompat reproduces the encoding of model_signing v0.2 (sign_sigstore_pb.pae_compat): "DSSEV1",
// and the body written as Python's repr() of a bytes object; the reference still accepts it.

export const IN_TOTO_JSON = 'application/vnd.in-toto+json';
const utf8 = (s: string) => new TextEncoder().encode(s);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function pae(payloadType: string, body: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  return concat([utf8(`DSSEv1 ${type.length} `), type, utf8(` ${body.length} `), body]);
}

/** Python's repr(bytes): b'...' (or b"..." when the bytes hold ' but no "), escapes as CPython writes them. */
export function pythonBytesRepr(b: Uint8Array): string {
  const quote = b.includes(0x27) && !b.includes(0x22) ? '"' : "'";
  let s = `b${quote}`;
  for (const c of b) {
    if (c === quote.charCodeAt(0) || c === 0x5c) s += `\\${String.fromCharCode(c)}`;
    else if (c === 0x09) s += '\\t';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c < 0x20 || c >= 0x7f) s += `\\x${c.toString(16).padStart(2, '0')}`;
    else s += String.fromCharCode(c);
  }
  return `${s}${quote}`;
}

export function paeCompat(payloadType: string, body: Uint8Array): Uint8Array {
  return utf8(`DSSEV1 ${payloadType.length} ${payloadType} ${body.length} ${pythonBytesRepr(body)}`);
}
