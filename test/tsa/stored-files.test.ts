// What `hallmark ledger timestamp` leaves in the home is what openssl reads: the TSA's whole
// TimeStampResp (<size>.tsr, `openssl ts -verify -in`), the token (<size>.tst, `-token_in`) and the
// stamped checkpoint bytes. A home written before .tst existed (token in .tsr) still lists.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, generateNoteKey } from '../../ledger/index.js';
import { listTimestamps, readCertificates, stampCheckpoint, verifyTimestampToken } from '../../src/tsa/index.js';
import { startTsaServer, type TsaServer } from '../helpers/tsa-server.js';

let tsa: TsaServer;
beforeAll(async () => { tsa = await startTsaServer(); });
afterAll(async () => { await tsa?.close(); });

describe('stored time-stamp files', () => {
  it('keeps the TimeStampResp beside the token; openssl verifies both independently', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hallmark-tsr-'));
    const key = generateNoteKey('hallmark.test/tsr');
    const ledger = openLedger(join(home, 'ledger.db'), { signerKey: key.signerKey, create: true });
    ledger.append({ type: 'note.added', actor: 't', payload: { text: 'one' } });
    const ca = readCertificates(readFileSync(tsa.pki.caCert), 'ca');
    const r = await stampCheckpoint(ledger, home, tsa.url, { caCerts: ca });
    ledger.close();
    expect(r.files.response).toMatch(/1\.tsr$/);
    expect(r.files.token).toMatch(/1\.tst$/);
    for (const f of Object.values(r.files)) expect(statSync(f).mode & 0o777).toBe(0o600);
    const viaResponse = execFileSync('/usr/bin/openssl', ['ts', '-verify', '-in', r.files.response, '-data', r.files.checkpoint, '-CAfile', tsa.pki.caCert, '-untrusted', tsa.pki.tsaCert], { encoding: 'utf8' });
    expect(viaResponse).toMatch(/Verification: OK/);
    const viaToken = execFileSync('/usr/bin/openssl', ['ts', '-verify', '-in', r.files.token, '-token_in', '-data', r.files.checkpoint, '-CAfile', tsa.pki.caCert, '-untrusted', tsa.pki.tsaCert], { encoding: 'utf8' });
    expect(viaToken).toMatch(/Verification: OK/);
    const text = execFileSync('/usr/bin/openssl', ['ts', '-reply', '-in', r.files.response, '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Status: Granted/);
    const [listed] = listTimestamps(home);
    expect(listed!.size).toBe(1);
    expect(Buffer.from(listed!.response!)).toEqual(readFileSync(r.files.response));
    await verifyTimestampToken(listed!.token, new TextEncoder().encode(listed!.checkpoint), { caCerts: ca });

    // The old layout: only <size>.tsr holding the token.
    const old = mkdtempSync(join(tmpdir(), 'hallmark-tsr-old-'));
    execFileSync('/bin/mkdir', ['-p', join(old, 'timestamps')]);
    copyFileSync(r.files.token, join(old, 'timestamps', '1.tsr'));
    copyFileSync(r.files.checkpoint, join(old, 'timestamps', '1.checkpoint'));
    const [legacy] = listTimestamps(old);
    expect(Buffer.from(legacy!.token)).toEqual(readFileSync(r.files.token));
    expect(legacy!.response).toBeUndefined();
    rmSync(old, { recursive: true, force: true });
  });
});
