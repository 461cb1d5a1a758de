// Whole-file reads with a size bound, so a multi-gigabyte file gives a typed error instead of
// Node's own RangeError or an out-of-memory.
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError } from './errors.js';

/** Largest file we read into memory at once (Node buffers stop at 2 GiB anyway). */
export const MAX_IN_MEMORY_BYTES = 2 ** 31 - 1;

/** Opens a regular file for reading; anything else (missing, a folder, a device) is FORMAT_NOT_FOUND. */
export async function openRegularFile(path: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new FormatError('FORMAT_NOT_FOUND', `${path} is not a regular file`);
  }
  return { fh, size: st.size };
}

export async function readWholeFile(path: string, maxBytes = MAX_IN_MEMORY_BYTES): Promise<Uint8Array> {
  const { fh, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) throw new FormatError('FORMAT_TOO_LARGE', `${path} has ${size} bytes, over the ${maxBytes}-byte limit`);
    const buf = new Uint8Array(size);
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(buf, pos, size - pos, pos);
      if (bytesRead === 0) throw new FormatError('FORMAT_TRUNCATED', `${path} shrank while being read`);
      pos += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** Reads [offset, offset+length) of a file after checking the range lies inside it. */
export async function readFileRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  const { fh, size } = await openRegularFile(path);
  try {
    if (offset + length > size) throw new FormatError('FORMAT_TRUNCATED', `${path}: range ${offset}+${length} is past its end (${size} bytes)`);
    const buf = new Uint8Array(length);
    let pos = 0;
    while (pos < length) {
      const { bytesRead } = await fh.read(buf, pos, length - pos, offset + pos);
      if (bytesRead === 0) throw new FormatError('FORMAT_TRUNCATED', `${path} shrank while being read`);
      pos += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}
