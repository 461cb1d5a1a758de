// RFC 3161 against OpenSSL's TSA on loopback: a real request, a real signed response, and the
// checks failing for a token over other data, a flipped byte, a wrong CA and a replayed nonce.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTimestampRequest, readCertificates, requestTimestamp, verifyTimestampToken, TsaError } from '../../src/tsa/index.js';
import { makeTestPki, startTsaServer, type TsaServer } from '../helpers/tsa-server.js';

let tsa: TsaServer;
beforeAll(async () => {
  tsa = await startTsaServer();
}, 60_000);
afterAll(() => tsa?.close());

const data = new TextEncoder().encode('hallmark.local/log/abcd\n3\nAAAA\n\n— hallmark.local/log/abcd sig\n');
const ca = () => readCertificates(readFileSync(tsa.pki.caCert), 'CA');

describe('RFC 3161 with openssl ts', () => {
  it('our TimeStampReq is one that openssl parses, with our imprint, nonce and certReq', () => {
    const req = buildTimestampRequest(data);
    const f = join(tsa.pki.dir, 'ours.tsq');
    writeFileSync(f, req.der);
    const text = execFileSync('/usr/bin/openssl', ['ts', '-query', '-in', f, '-text'], { encoding: 'utf8' });
    expect(text).toMatch(/Hash Algorithm: sha256/);
    const asn = execFileSync('/usr/bin/openssl', ['asn1parse', '-inform', 'DER', '-in', f], { encoding: 'utf8' });
    expect(asn).toContain(`[HEX DUMP]:${Buffer.from(req.imprint).toString('hex').toUpperCase()}`);
    expect(text).toMatch(/Certificate required: yes/);
    expect(text).toMatch(new RegExp(`Nonce: 0x${Buffer.from(req.nonce).toString('hex').toUpperCase()}`));
  });

  it('gets a token from the TSA and verifies it to the CA; openssl verifies the same token', async () => {
    const before = Date.now();
    const { token, info } = await requestTimestamp(tsa.url, data, { caCerts: ca() });
    expect(info.chainVerified).toBe(true);
    expect(info.signer).toMatch(/TSA/);
    expect(Math.abs(info.genTime.getTime() - before)).toBeLessThan(60_000);
    const tf = join(tsa.pki.dir, 'tok.tsr');
    const df = join(tsa.pki.dir, 'data.bin');
    writeFileSync(tf, token);
    writeFileSync(df, data);
    const out = execFileSync('/usr/bin/openssl', ['ts', '-verify', '-data', df, '-in', tf, '-token_in', '-CAfile', tsa.pki.caCert, '-untrusted', tsa.pki.tsaCert], { encoding: 'utf8' });
    expect(out).toMatch(/Verification: OK/);
    const again = await verifyTimestampToken(token, data, { caCerts: ca() });
    expect(again.serialNumber).toBe(info.serialNumber);
  });

  it('rejects a token for other data, a flipped byte, a wrong CA and a missing nonce', async () => {
    const { token } = await requestTimestamp(tsa.url, data, { caCerts: ca() });
    await expect(verifyTimestampToken(token, new TextEncoder().encode('other checkpoint\n'), { caCerts: ca() })).rejects.toThrow(/message imprint does not match/);
    const other = makeTestPki('Other');
    await expect(verifyTimestampToken(token, data, { caCerts: readCertificates(readFileSync(other.caCert), 'CA') })).rejects.toThrow(/does not chain to the given CA/);
    await expect(verifyTimestampToken(token, data, { nonce: new Uint8Array([0x41, 1, 2, 3, 4, 5, 6, 7]) })).rejects.toThrow(/nonce does not match/);
    // Every byte position: each flip must fail with a typed error (every 7th, for speed: pkijs needs ~20 ms a token).
    const fails = new Map<string, number>();
    for (let i = 0; i < token.length; i += 7) {
      const t = token.slice();
      t[i]! ^= 0x01;
      const err = await verifyTimestampToken(t, data, { caCerts: ca() }).then(() => undefined, (e: unknown) => e);
      expect(err, `flip at byte ${i} of ${token.length} was accepted`).toBeInstanceOf(TsaError);
      const m = (err as TsaError).message.split(':')[0]!.slice(0, 50);
      fails.set(m, (fails.get(m) ?? 0) + 1);
    }
    expect([...fails.keys()].some((k) => /signature/.test(k))).toBe(true);
  });

  it('reports an unreachable TSA and a non-TSA answer as typed errors', async () => {
    await expect(requestTimestamp('http://127.0.0.1:1/tsa', data)).rejects.toMatchObject({ code: 'TSA_UNREACHABLE' });
    await expect(requestTimestamp('ftp://x', data)).rejects.toMatchObject({ code: 'TSA_INVALID' });
  });
});
