// `hallmark attack extract --endpoint URL --key KEY --queries N [--data mnist-t10k|mnist|DIR|synthetic]`.
import { extractModel } from '../../src/attacks/index.js';
import type { BackendChoice } from '../../src/train/backend.js';
import { REMOTE_PROTOCOLS, type RemoteProtocol } from '../../src/verify/index.js';
import { emit, parseCount } from '../output.js';

export async function runExtract(opts: { out: string; endpoint?: string; key?: string; protocol?: string; modelName?: string; data?: string; queries?: string; epochs?: string; seed?: string; backend?: string; json?: boolean }): Promise<void> {
  if (!opts.endpoint) throw new RangeError('attack extract needs --endpoint URL');
  if (!REMOTE_PROTOCOLS.includes(opts.protocol as RemoteProtocol)) throw new RangeError(`--protocol must be one of ${REMOTE_PROTOCOLS.join(', ')}`);
  const key = opts.key ?? process.env.HALLMARK_EXTRACT_KEY;
  const progress = !opts.json && process.stderr.isTTY;
  const epochs = parseCount('--epochs', opts.epochs);
  const r = await extractModel({
    endpoint: opts.endpoint, protocol: opts.protocol as RemoteProtocol, ...(opts.modelName ? { modelName: opts.modelName } : {}), ...(key ? { key } : {}),
    queries: parseCount('--queries', opts.queries)!, data: opts.data ?? 'mnist', ...(epochs === undefined ? {} : { epochs }), ...(opts.seed === undefined ? {} : { seed: parseCount('--seed', opts.seed)! }),
    out: opts.out, backend: opts.backend as BackendChoice,
    onProgress: (e) => {
      if (progress) process.stderr.write(`\r${e.phase}: ${e.queries} queries`);
    },
  });
  if (progress) process.stderr.write('\n');
  emit(opts, r, () => `extracted a student from ${r.queries} ${r.data} queries (${r.requests} requests) -> ${r.out}\n  student accuracy ${(r.studentAccuracy * 100).toFixed(2)}% on 1,000 held-out mnist test digits; ${r.epochs} epochs, ${r.backend}, ${r.seconds.toFixed(1)} s`);
}
