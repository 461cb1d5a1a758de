// `hallmark model convert`: a model file or folder in, the other format out. TF.js Layers -> ONNX
// writes one .onnx file; ONNX -> TF.js writes a folder with model.json and weight shards.
import { writeFile } from 'node:fs/promises';
import { FormatError } from './errors.js';
import { convertOnnxToTfjs } from './convert-onnx-to-tfjs.js';
import { convertTfjsToOnnx } from './convert-tfjs-to-onnx.js';
import { detectModelFormat, type ModelFormat } from './index.js';
import { readWholeFile } from './read-file.js';
import { writeTfjsArtifacts } from './tfjs-io.js';

export type ConvertTarget = 'onnx' | 'tfjs';
export const CONVERT_TARGETS: readonly ConvertTarget[] = ['onnx', 'tfjs'];

/** ONNX files larger than this are refused: the converter holds the model in memory. */
export const MAX_CONVERT_BYTES = 1024 * 1024 * 1024;

export interface ConvertResult {
  readonly from: ModelFormat;
  readonly to: ConvertTarget;
  /** The written .onnx file, or the written model.json. */
  readonly out: string;
}

export async function convertModel(input: string, to: ConvertTarget, out: string): Promise<ConvertResult> {
  if (!CONVERT_TARGETS.includes(to)) throw new RangeError(`--to must be one of ${CONVERT_TARGETS.join(', ')}, got "${String(to)}"`);
  const src = await detectModelFormat(input);
  if (to === 'onnx') {
    if (src.format !== 'tfjs-layers') throw new FormatError('FORMAT_UNSUPPORTED', `${input} is ${src.format}; conversion to ONNX takes a TF.js Layers model`);
    await writeFile(out, await convertTfjsToOnnx(src.path));
    return { from: src.format, to, out };
  }
  if (src.format !== 'onnx') throw new FormatError('FORMAT_UNSUPPORTED', `${input} is ${src.format}; conversion to TF.js takes an ONNX model`);
  const artifacts = convertOnnxToTfjs(await readWholeFile(src.path, MAX_CONVERT_BYTES));
  return { from: src.format, to, out: await writeTfjsArtifacts(out, artifacts) };
}
