// A real RFC 3161 time-stamping authority on loopback: OpenSSL's `openssl ts -reply` with a test
// CA and TSA certificate made here, behind a tiny HTTP wrapper. Nothing of the protocol is ours.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL = '/usr/bin/openssl';

export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly tsaCert: string;
  readonly tsaKey: string;
  readonly config: string;
}

const ssl = (args: string[], cwd: string) => execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** Makes a CA and a TSA certificate (critical extendedKeyUsage timeStamping) signed by it. */
export function makeTestPki(name = 'Hallmark Test'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-tsa-'));
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', `/CN=${name} CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tsa.key', '-out', 'tsa.csr', '-subj', `/CN=${name} TSA`], dir);
  writeFileSync(join(dir, 'tsa.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n');
  ssl(['x509', '-req', '-in', 'tsa.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'tsa.pem', '-days', '3650', '-extfile', 'tsa.ext'], dir);
  writeFileSync(join(dir, 'tsaserial'), '01\n');
  writeFileSync(join(dir, 'tsa.cnf'), [
    '[ tsa ]', 'default_tsa = tsa_config1', '', '[ tsa_config1 ]', `dir = ${dir}`, 'serial = $dir/tsaserial', 'crypto_device = builtin',
    'signer_digest = sha256', 'default_policy = 1.3.6.1.4.1.99999.1', 'digests = sha256, sha384, sha512', 'accuracy = secs:1',
    'ordering = yes', 'tsa_name = yes', 'ess_cert_id_chain = no', 'ess_cert_id_alg = sha256', '',
  ].join('\n'));
  return { dir, caCert: join(dir, 'ca.pem'), tsaCert: join(dir, 'tsa.pem'), tsaKey: join(dir, 'tsa.key'), config: join(dir, 'tsa.cnf') };
}

export interface TsaServer {
  readonly url: string;
  readonly pki: TestPki;
  /** Requests answered so far. */
  readonly count: () => number;
  close(): Promise<void>;
}

/** Starts the HTTP wrapper on 127.0.0.1; each POST body goes through `openssl ts -reply`. */
export async function startTsaServer(pki: TestPki = makeTestPki()): Promise<TsaServer> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/timestamp-query') {
        res.writeHead(415).end('want POST application/timestamp-query');
        return;
      }
      const id = ++n;
      const q = join(pki.dir, `q${id}.tsq`);
      const r = join(pki.dir, `r${id}.tsr`);
      try {
        writeFileSync(q, Buffer.concat(chunks));
        // Synchronous on purpose: one request at a time keeps the serial file consistent.
        ssl(['ts', '-reply', '-queryfile', q, '-config', pki.config, '-inkey', pki.tsaKey, '-signer', pki.tsaCert, '-out', r], pki.dir);
        const body = readFileSync(r);
        res.writeHead(200, { 'content-type': 'application/timestamp-reply', 'content-length': body.length }).end(body);
      } catch (err) {
        res.writeHead(500).end(String((err as Error).message));
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  if (typeof addr !== 'object' || addr === null) throw new Error('no address');
  return {
    url: `http://127.0.0.1:${addr.port}/tsa`,
    pki,
    count: () => n,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
