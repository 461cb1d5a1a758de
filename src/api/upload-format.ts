// An uploaded model must be what it claims: random bytes named model.onnx are not an ONNX model,
// and registering them would put a false record in the log. The claimed format is checked on the
// temporary file, before anything is stored or appended; a failure leaves nothing behind.
import { readFile } from 'node:fs/promises';
import { isHallmarkError } from '../../ledger/index.js';
import { FormatError, parseSafetensors, scanOnnx } from '../formats/index.js';
import { ApiError } from './errors.js';

/** Formats whose structure the server can check at upload. */
export const CHECKED_FORMATS = ['onnx', 'safetensors', 'tfjs-layers'] as const;

/** The format a file name claims by its extension, if any. */
export function claimedFormat(fileName: string): string | undefined {
  const ext = fileName.toLowerCase().split('.').pop() ?? '';
  return ({ onnx: 'onnx', safetensors: 'safetensors', json: 'tfjs-layers' } as Record<string, string>)[ext];
}

function checkTfjsModelJson(bytes: Uint8Array): void {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new FormatError('FORMAT_CORRUPT', 'not JSON');
  }
  const o = json as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o) || !o.modelTopology || typeof o.modelTopology !== 'object' || !Array.isArray(o.weightsManifest)) {
    throw new FormatError('FORMAT_CORRUPT', 'not a TF.js model.json (no modelTopology and weightsManifest)');
  }
}

/** Parses the uploaded file as `format`; API_INVALID_UPLOAD (400) when it does not parse. */
export async function checkUploadedModel(path: string, format: string, fileName: string): Promise<void> {
  if (!(CHECKED_FORMATS as readonly string[]).includes(format)) {
    throw new ApiError('API_INVALID_UPLOAD', `the server checks uploads of ${CHECKED_FORMATS.join(', ')} only, not "${format.slice(0, 40)}"; register other formats by digest with POST /v1/models`);
  }
  try {
    const bytes = new Uint8Array(await readFile(path));
    if (format === 'onnx') scanOnnx(bytes);
    else if (format === 'safetensors') parseSafetensors(bytes);
    else checkTfjsModelJson(bytes);
  } catch (err) {
    // Only our own words: the reason from our parser, never a path.
    const why = isHallmarkError(err) ? err.message.split('\n')[0]!.slice(0, 200) : 'it could not be read';
    throw new ApiError('API_INVALID_UPLOAD', `${fileName} is not a valid ${format} file (${why}); nothing was stored`);
  }
}
