// The CLI as a user runs it (dist/): ledger timestamp against openssl's TSA, provenance export and
// verify, evidence export and verify; exit 1 and one line naming the failure when tampered.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';
import { startTsaServer, type TsaServer } from '../helpers/tsa-server.js';
import { makeFixture, type Fixture } from './fixture.js';

let fx: Fixture;
let tsa: TsaServer;
beforeAll(async () => {
  tsa = await startTsaServer();
  fx = await makeFixture('cli');
  fx.home.close();
}, 60_000);
afterAll(() => tsa?.close());

describe('hallmark provenance / evidence / ledger timestamp', () => {
  it('stamps, exports and verifies both bundles, and names what failed when tampered', async () => {
    const env = { HALLMARK_HOME: fx.dir };
    // Asynchronous spawn: the TSA runs in this process and must keep answering meanwhile.
    const ts = await promisify(execFile)(process.execPath, [join(REPO, 'dist/cli/main.js'), 'ledger', 'timestamp', '--tsa', tsa.url, '--ca', tsa.pki.caCert], { env: { ...process.env, ...env } });
    expect(ts.stderr).toBe('');
    expect(ts.stdout).toMatch(/stamped at [^\n]*\nchain to CA: verified/);
    const dir = mkdtempSync(join(tmpdir(), 'hallmark-cli-'));
    const bundle = join(dir, 'prov.json');
    const w = hallmark(['provenance', fx.marked, '--out', bundle], { env });
    expect(w.status, w.stderr).toBe(0);
    const logKey = hallmark(['ledger', 'pubkey'], { env }).stdout.trim();
    const v = hallmark(['provenance', 'verify', bundle, '--pubkey', logKey, '--tsa-ca', tsa.pki.caCert]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/watermark-embed/);
    expect(v.stdout).toMatch(/RFC 3161 timestamp: checkpoint of size \d+ existed by .*verified/);
    const text = readFileSync(bundle, 'utf8');
    writeFileSync(bundle, text.replace('"entries": [', '"entries": [ '));
    const bad = hallmark(['provenance', 'verify', bundle, '--pubkey', logKey]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^hallmark: EVIDENCE_BAD_BUNDLE: provenance bundle is not in the exact form/);

    // The opening comes out of the home's encrypted secret store, as after a real embed.
    const out = join(dir, 'evidence');
    const e = hallmark(['evidence', 'export', '--verification', String(fx.verificationIndex), '--out', out], { env: { ...env, HALLMARK_PASSPHRASE: fx.passphrase } });
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/report for people: .*report\.pdf/);
    const ev = hallmark(['evidence', 'verify', out, '--pubkey', logKey, '--tsa-ca', tsa.pki.caCert]);
    expect(ev.status, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/decision recorded: OWNED/);
    writeFileSync(join(out, 'VERIFY.md'), `${readFileSync(join(out, 'VERIFY.md'), 'utf8')} `);
    const evBad = hallmark(['evidence', 'verify', out]);
    expect(evBad.status).toBe(1);
    expect(evBad.stderr).toMatch(/VERIFY\.md does not match the SHA-256 in the signed statement/);
  });
});
