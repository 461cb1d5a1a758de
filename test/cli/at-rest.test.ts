// Issue 10, finding 6, through the real CLI: a home is private (files 0600, folders 0700, exported
// evidence too); owner.key and log.key are sealed under the home's passphrase in the secret-file
// format (src/secrets loadSecret opens them: same scrypt, same XChaCha20-Poly1305); commands
// refuse a missing or wrong passphrase with a typed error that never echoes it; signed payloads
// are parsed strictly; `hallmark serve` refuses to start on a wrong passphrase or plaintext keys,
// and an old plaintext home is migrated by `hallmark home encrypt-keys`.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newSigner, verifierKeyFor } from '../../ledger/index.js';
import { tensorFromFloat32, writeSafetensorsFile } from '../../src/formats/index.js';
import { initHome } from '../../src/home/index.js';
import { loadSecret } from '../../src/secrets/index.js';
import { hallmark, hallmarkJson } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

// Each step spawns the CLI (and a scrypt); on a loaded machine that is seconds per step.
vi.setConfig({ testTimeout: 600_000 });

const PASS = 'at rest passphrase';
const WRONG = 'definitely-not-the-passphrase';
const env = { HALLMARK_PASSPHRASE: PASS };
let root: string;
let home: string;

/** Every path under dir whose mode is not 0600 (files) or 0700 (folders). */
function loose(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) out.push(`${p} ${mode.toString(8)}`);
      for (const n of readdirSync(p)) walk(join(p, n));
    } else if (mode !== 0o600) out.push(`${p} ${mode.toString(8)}`);
  };
  walk(dir);
  return out;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'hm-at-rest-'));
  home = join(root, 'home');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a home at rest', () => {
  it('init refuses to make a home without a passphrase, and leaves nothing', () => {
    const r = hallmark(['init', '--home', home], { env: { HALLMARK_PASSPHRASE: '' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^hallmark: SECRET_NO_PASSPHRASE: .*HALLMARK_PASSPHRASE/);
    expect(existsSync(join(home, 'owner.key'))).toBe(false);
  });

  it('init seals owner.key and log.key in the secret store format', async () => {
    const r = hallmarkJson<{ ownerVerifierKey: string; logVerifierKey: string; keysEncrypted: boolean }>(['init', '--home', home], { env });
    expect(r.keysEncrypted).toBe(true);
    for (const [file, id, verifier] of [['owner.key', 'owner-key', r.ownerVerifierKey], ['log.key', 'log-key', r.logVerifierKey]] as const) {
      const text = readFileSync(join(home, file), 'utf8');
      expect(text).not.toMatch(/PRIVATE\+KEY/);
      expect(JSON.parse(text)).toMatchObject({ type: 'hallmark.secret', version: 1, id, kdf: { name: 'scrypt' }, cipher: { name: 'xchacha20-poly1305' } });
      // The secret store (noble's scrypt, its own code path) opens it: same format, same KDF.
      const scratch = join(root, `scratch-${id}`);
      mkdirSync(join(scratch, 'secrets'), { recursive: true });
      copyFileSync(join(home, file), join(scratch, 'secrets', `${id}.secret.json`));
      const signer = new TextDecoder().decode(await loadSecret(scratch, id, PASS)).trim();
      newSigner(signer);
      expect(verifierKeyFor(signer)).toBe(verifier);
      await expect(loadSecret(scratch, id, WRONG)).rejects.toMatchObject({ code: 'SECRET_BAD_PASSPHRASE' });
    }
    expect(loose(home)).toEqual([]);
  });

  it('commands open the keys with the passphrase and refuse a wrong or missing one without echoing it', () => {
    const ok = hallmark(['ledger', 'checkpoint', '--json'], { home, env });
    expect(ok.status, ok.stderr).toBe(0);
    const wrong = hallmark(['ledger', 'checkpoint'], { home, env: { HALLMARK_PASSPHRASE: WRONG } });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/^hallmark: SECRET_BAD_PASSPHRASE: [^\n]*\n$/);
    expect(wrong.stderr + wrong.stdout).not.toContain(WRONG);
    const none = hallmark(['ledger', 'checkpoint'], { home, env: { HALLMARK_PASSPHRASE: '' } });
    expect(none.stderr).toMatch(/^hallmark: SECRET_NO_PASSPHRASE: .*HALLMARK_PASSPHRASE/);
  });

  it('ledger append parses the payload strictly and appends nothing it refused', () => {
    const size = () => hallmarkJson<{ size: number }>(['ledger', 'checkpoint'], { home, env }).size;
    const before = size();
    const attacks: [string, string][] = [
      ['{"owner":"alice","owner":"mallory"}', 'JSON_INVALID_DUPLICATE_KEY'],
      ['{"__proto__":{"owned":true}}', 'JSON_INVALID_PROTO_KEY'],
      ['{"trials":9007199254740993}', 'JSON_INVALID_UNSAFE_INTEGER'],
    ];
    for (const [payload, code] of attacks) {
      const r = hallmark(['ledger', 'append', '--type', 'note.added', '--payload', '-'], { home, env, input: payload });
      expect(r.status, payload).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^hallmark: ${code}: payload from stdin is refused: `));
    }
    expect(size()).toBe(before);
    const honest = hallmarkJson<{ entry: { payload: unknown } }>(['ledger', 'append', '--type', 'note.added', '--payload', '-'], { home, env, input: '{"trials":9007199254740991}' });
    expect(honest.entry.payload).toEqual({ trials: 9007199254740991 });
  });

  it('keeps every file of a full flow private, exported evidence included', async () => {
    const model = join(root, 'w.safetensors');
    await writeSafetensorsFile(model, [tensorFromFloat32('fc.weight', 'F32', [8, 400], Float32Array.from({ length: 3200 }, (_, i) => Math.cos(i * 0.37)))]);
    const marked = join(root, 'marked.safetensors');
    const e = hallmark(['embed', model, '--out', marked, '--scheme', 'weight', '--training-free', '--bits', '64'], { home, env });
    expect(e.status, e.stderr).toBe(0);
    const v = hallmarkJson<{ index: number }>(['verify', marked], { home, env });
    hallmark(['ledger', 'checkpoint'], { home, env });
    const out = join(home, 'evidence-out');
    const x = hallmark(['evidence', 'export', '--verification', String(v.index), '--out', out], { home, env });
    expect(x.status, x.stderr).toBe(0);
    expect(existsSync(join(out, 'evidence.json'))).toBe(true);
    expect(readdirSync(home)).toEqual(expect.arrayContaining(['ledger.db', 'config.json', 'secrets', 'evidence-out']));
    // Outside the home too: the evidence folder the user asked for is private.
    const elsewhere = join(root, 'evidence-elsewhere');
    expect(hallmark(['evidence', 'export', '--verification', String(v.index), '--out', elsewhere], { home, env }).status).toBe(0);
    expect(loose(elsewhere)).toEqual([]);
    expect(loose(home)).toEqual([]);
  });
});

function startServe(dir: string, e: Record<string, string>): Promise<{ url?: string; code?: number; stderr: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), 'serve', '--port', '0', '--home', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...e } });
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, stderr: err, child });
    });
    child.once('exit', (code) => resolve({ code: code ?? -1, stderr: err, child }));
  });
}
const stop = async (c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') => {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill(signal);
  await exited;
};

describe('hallmark serve and the passphrase', () => {
  it('refuses to start with a wrong or missing passphrase (typed error, exit status, no echo)', async () => {
    const wrong = await startServe(home, { HALLMARK_PASSPHRASE: WRONG });
    expect(wrong.url).toBeUndefined();
    expect(wrong.code).toBe(2); // a wrong passphrase is the caller's mistake (docs/cli.md exit codes)
    expect(wrong.stderr).toMatch(/^hallmark: SECRET_BAD_PASSPHRASE: /);
    expect(wrong.stderr).not.toContain(WRONG);
    const none = await startServe(home, { HALLMARK_PASSPHRASE: '' });
    expect(none.url).toBeUndefined();
    expect(none.stderr).toMatch(/^hallmark: SECRET_NO_PASSPHRASE: /);
  });

  it('refuses a plaintext home until `home encrypt-keys` seals it; then serves, and a .part left by kill -9 is gone on restart', async () => {
    const old = join(root, 'old-home');
    initHome(old); // as versions before this one wrote it: plaintext keys
    expect(readFileSync(join(old, 'owner.key'), 'utf8')).toMatch(/^PRIVATE\+KEY\+/);
    const refused = await startServe(old, env);
    expect(refused.url).toBeUndefined();
    expect(refused.stderr).toMatch(/^hallmark: HOME_KEYS_PLAINTEXT: .*hallmark home encrypt-keys/);

    const m = hallmarkJson<{ sealed: string[] }>(['home', 'encrypt-keys', '--home', old], { env });
    expect(m.sealed).toHaveLength(2);
    expect(readFileSync(join(old, 'owner.key'), 'utf8')).not.toMatch(/PRIVATE\+KEY/);
    expect(hallmark(['home', 'encrypt-keys', '--home', old], { env }).stderr).toMatch(/HOME_KEYS_ENCRYPTED/);

    const admin = hallmarkJson<{ secret: string }>(['keys', 'create', '--role', 'admin', '--name', 'ops', '--home', old], { env });
    const s = await startServe(old, env);
    expect(s.url, s.stderr).toBeDefined();
    try {
      // An upload that never finishes, then the server is killed: its .part file stays behind.
      const ctrl = new AbortController();
      const body = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array(65536)); } });
      void fetch(`${s.url}/v1/uploads/models/big.onnx`, { method: 'PUT', headers: { authorization: `Bearer ${admin.secret}`, 'content-type': 'application/octet-stream', 'content-length': String(1 << 24) }, body, duplex: 'half', signal: ctrl.signal } as RequestInit).catch(() => undefined);
      const tmp = join(old, 'uploads', '.tmp');
      const deadline = Date.now() + 10_000;
      while (!(existsSync(tmp) && readdirSync(tmp).some((n) => n.endsWith('.part'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(readdirSync(tmp).filter((n) => n.endsWith('.part'))).toHaveLength(1);
      await stop(s.child, 'SIGKILL');
      ctrl.abort();
      expect(readdirSync(tmp).filter((n) => n.endsWith('.part'))).toHaveLength(1);
    } finally {
      await stop(s.child, 'SIGKILL');
    }
    const again = await startServe(old, env);
    try {
      expect(again.url, again.stderr).toBeDefined();
      expect(readdirSync(join(old, 'uploads', '.tmp'))).toEqual([]);
      expect(loose(old)).toEqual([]);
    } finally {
      await stop(again.child);
    }
  });
});
