// The RFC 3161 HTTP transport (RFC 3161 §3.4): POST application/timestamp-query, read
// application/timestamp-reply, then check the response before anything is stored.
import * as pkijs from 'pkijs';
import { parseDer, MAX_DER_BYTES } from './asn1.js';
import { TsaError } from './errors.js';
import { buildTimestampRequest } from './request.js';
import { verifyTimestampToken, type TimestampInfo, type VerifyTokenOptions } from './verify-token.js';

export interface TimestampResult {
  /** DER of the TimeStampToken (ContentInfo), what gets stored and shipped. */
  readonly token: Uint8Array;
  /** DER of the whole TimeStampResp as the TSA sent it (`openssl ts -reply -in`, `openssl ts -verify -in`). */
  readonly response: Uint8Array;
  readonly info: TimestampInfo;
}

const STATUS_TEXT = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

export async function requestTimestamp(url: string, data: Uint8Array, options: { caCerts?: VerifyTokenOptions['caCerts']; timeoutMs?: number } = {}): Promise<TimestampResult> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TsaError('TSA_INVALID', `"${url.slice(0, 200)}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TsaError('TSA_INVALID', 'the TSA URL must be http or https');
  const req = buildTimestampRequest(data);
  let res: Response;
  try {
    res = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: req.der, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000), redirect: 'manual' });
  } catch (err) {
    throw new TsaError('TSA_UNREACHABLE', `cannot reach the TSA at ${u.origin}: ${(err as Error).message}`);
  }
  // No redirect is followed (SSRF guard): a 3xx is an answer we do not accept.
  if (res.status >= 300 && res.status < 400) throw new TsaError('TSA_BAD_RESPONSE', `the TSA answered HTTP ${res.status} (a redirect); Hallmark follows no redirects: give the TSA's final URL`);
  if (!res.ok) throw new TsaError('TSA_BAD_RESPONSE', `the TSA answered HTTP ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/timestamp-reply')) throw new TsaError('TSA_BAD_RESPONSE', `the TSA answered with content type "${type.slice(0, 80)}", want application/timestamp-reply`);
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_DER_BYTES) throw new TsaError('TSA_BAD_RESPONSE', 'the TSA response is too large');
  const body = new Uint8Array(await res.arrayBuffer());
  const resp = parseDer(body, 'TimeStampResp', (s) => new pkijs.TimeStampResp({ schema: s }), 'TSA_BAD_RESPONSE');
  const status = resp.status.status;
  if (status !== 0 && status !== 1) {
    // The TSA's own status text is its words, not ours: only the status code is reported.
    throw new TsaError('TSA_BAD_RESPONSE', `the TSA refused: ${STATUS_TEXT[status] ?? `status ${status}`}`);
  }
  if (!resp.timeStampToken) throw new TsaError('TSA_BAD_RESPONSE', 'the TSA granted the request but sent no token');
  const token = new Uint8Array(resp.timeStampToken.toSchema().toBER());
  const info = await verifyTimestampToken(token, data, { nonce: req.nonce, ...(options.caCerts ? { caCerts: options.caCerts } : {}) });
  return { token, response: body, info };
}
