// PNG (pngjs) and JPEG (jpeg-js) files to RGBA8, with the image size read and bounded from the
// header before any pixel is decoded, so a 100000x100000 header costs nothing.
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { FormatError } from '../formats/errors.js';
import { readPngSize } from '../formats/png-folder.js';

export interface Rgba {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, R G B A. */
  readonly data: Uint8Array;
}

export type ImageKind = 'png' | 'jpeg';

export function imageKindOf(name: string): ImageKind | undefined {
  if (/\.png$/i.test(name)) return 'png';
  if (/\.jpe?g$/i.test(name)) return 'jpeg';
  return undefined;
}

/** Width and height from a JPEG's first SOFn marker (baseline, progressive, lossless). */
export function readJpegSize(bytes: Uint8Array, file: string): { width: number; height: number } {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) throw new FormatError('FORMAT_CORRUPT', `${file} is not a JPEG file (no SOI marker)`);
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) throw new FormatError('FORMAT_CORRUPT', `${file}: JPEG marker expected at byte ${p}`);
    const m = bytes[p + 1]!;
    if (m === 0xff) { p++; continue; }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { p += 2; continue; }
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (len < 2 || p + 2 + len > bytes.length) break;
    const sof = m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
    if (sof) {
      if (len < 7) break;
      return { height: (bytes[p + 5]! << 8) | bytes[p + 6]!, width: (bytes[p + 7]! << 8) | bytes[p + 8]! };
    }
    if (m === 0xda || m === 0xd9) break;
    p += 2 + len;
  }
  throw new FormatError('FORMAT_CORRUPT', `${file}: no JPEG frame header (SOF) before the image data`);
}

export function readImageSize(bytes: Uint8Array, kind: ImageKind, file: string): { width: number; height: number } {
  return kind === 'png' ? readPngSize(bytes, file) : readJpegSize(bytes, file);
}

/** Decodes after the caller has bounded the size with readImageSize. */
export function decodeImage(bytes: Uint8Array, kind: ImageKind, file: string): Rgba {
  try {
    if (kind === 'png') {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, data: img.data };
  } catch (err) {
    throw new FormatError('FORMAT_CORRUPT', `${file} is not a readable ${kind.toUpperCase()}: ${String((err as Error)?.message ?? err).split('\n')[0]}`, { cause: err });
  }
}
