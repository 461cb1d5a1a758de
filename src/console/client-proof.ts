// Browser code that checks the ledger page on its own: each listed entry's RFC 6962 inclusion
// proof (leaf = SHA-256(0x00 || entry bytes), node = SHA-256(0x01 || left || right), the path
// of RFC 9162 §2.1.3.2) against the checkpoint's root, and the checkpoint's Ed25519 signature
// (C2SP signed note) against the log's verifier key, with WebCrypto only. The server's word is
// shown beside it; the browser's result comes from the bytes alone.
export const PROOF_JS = String.raw`
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const cat = (...parts) => { const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0)); let o = 0; for (const p of parts) { out.set(p, o); o += p.length; } return out; };
const sha = async (b) => new Uint8Array(await crypto.subtle.digest('SHA-256', b));
const leafHash = (d) => sha(cat(new Uint8Array([0]), d));
const nodeHash = (l, r) => sha(cat(new Uint8Array([1]), l, r));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const bitLen = (x) => (x === 0n ? 0 : x.toString(2).length);
const ones = (x) => [...x.toString(2)].filter((c) => c === '1').length;

async function rootFromProof(index, size, leaf, proof) {
  const i = BigInt(index), n = BigInt(size);
  if (i >= n) throw new Error('the entry is beyond the checkpoint');
  const inner = bitLen(i ^ (n - 1n));
  const border = ones(i >> BigInt(inner));
  if (proof.length !== inner + border) throw new Error('the proof has ' + proof.length + ' hashes, want ' + (inner + border));
  let h = leaf;
  for (let k = 0; k < inner; k++) h = ((i >> BigInt(k)) & 1n) === 0n ? await nodeHash(h, proof[k]) : await nodeHash(proof[k], h);
  for (let k = inner; k < proof.length; k++) h = await nodeHash(proof[k], h);
  return h;
}

function parseNote(note) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Error('the checkpoint is not a signed note');
  const text = note.slice(0, split + 1);
  const lines = text.split('\n');
  return { text, origin: lines[0], size: Number(lines[1]), root: b64(lines[2]), signatures: note.slice(split + 2).split('\n').filter(Boolean) };
}

async function checkSignature(note, verifierKey) {
  // name+keyid+base64: the base64 part may itself contain '+'.
  const a = verifierKey.indexOf('+'), b = verifierKey.indexOf('+', a + 1);
  const name = verifierKey.slice(0, a), keyHex = verifierKey.slice(a + 1, b), keyB64 = verifierKey.slice(b + 1);
  const pub = b64(keyB64);
  if (pub.length !== 33 || pub[0] !== 1) return { ok: false, text: 'the verifier key is not an Ed25519 note key' };
  const keyId = parseInt(keyHex, 16);
  for (const line of note.signatures) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const raw = b64(m[2]);
    if (((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0 !== keyId || raw.length !== 68) continue;
    let key;
    try {
      key = await crypto.subtle.importKey('raw', pub.slice(1), { name: 'Ed25519' }, false, ['verify']);
    } catch {
      return { ok: false, text: 'this browser has no Ed25519 in WebCrypto; the server checked it (left)' };
    }
    const good = await crypto.subtle.verify({ name: 'Ed25519' }, key, raw.slice(4), new TextEncoder().encode(note.text));
    return good ? { ok: true, text: 'valid Ed25519 signature by ' + name } : { ok: false, text: 'INVALID signature' };
  }
  return { ok: false, text: 'no signature by the log key ' + name };
}

function mark(el, ok, text) {
  if (!el) return;
  el.textContent = text;
  el.className = ok ? 'ok' : 'bad';
}

async function verifyLedgerPage() {
  const data = document.getElementById('ledger-proofs');
  if (!data) return;
  const d = JSON.parse(data.textContent);
  const summary = document.getElementById('proof-summary');
  let note = null;
  if (d.note) {
    note = parseNote(d.note);
    const sig = await checkSignature(note, d.verifierKey);
    mark(document.getElementById('checkpoint-browser'), sig.ok, sig.text);
  }
  let good = 0, bad = 0, pending = 0;
  for (const e of d.entries) {
    const cell = document.querySelector('[data-proof="' + e.index + '"]');
    if (!note || !e.hashes) { pending++; mark(cell, false, 'not yet in a signed checkpoint'); cell && (cell.className = 'pending'); continue; }
    try {
      const root = await rootFromProof(e.index, note.size, await leafHash(b64(e.data)), e.hashes.map(b64));
      if (same(root, note.root)) { good++; mark(cell, true, 'verified in this browser'); }
      else { bad++; mark(cell, false, 'FAILS: these bytes are not the entry the checkpoint signed'); }
    } catch (err) {
      bad++; mark(cell, false, 'FAILS: ' + err.message);
    }
  }
  if (summary) {
    summary.textContent = 'In this browser: ' + good + ' of ' + d.entries.length + ' inclusion proofs verified' + (bad ? ', ' + bad + ' FAILED' : '') + (pending ? ', ' + pending + ' not yet covered by a checkpoint' : '') + '.';
    summary.className = bad ? 'bad' : 'ok';
    summary.dataset.done = 'true';
  }
}
`;
