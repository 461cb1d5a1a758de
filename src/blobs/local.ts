// The blob store in a folder (the default, <home>/blobs): one file per blob, objects/<k[0,2]>/<k>
// holding the 40-byte header and the sealed chunks end to end; names as small JSON files under
// refs/; the key record in key.json. Files are written to .tmp and renamed into place, so a blob
// is there whole or not at all. Modes 0700/0600.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, rmdir, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { BlobRef, ChunkBackend, ChunkWriter } from './backend.js';
import { BlobError } from './errors.js';
import { HEADER_BYTES } from './format.js';
import { checkKeyInfo, type KeyInfo } from './keys.js';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export class LocalBackend implements ChunkBackend {
  readonly kind = 'local' as const;

  constructor(readonly root: string) {}

  private objectPath(key: string): string {
    return join(this.root, 'objects', key.slice(0, 2), key);
  }

  private refPath(name: string): string {
    return join(this.root, 'refs', ...name.split('/'));
  }

  private tmp(): string {
    const dir = join(this.root, '.tmp');
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    return join(dir, `${randomUUID()}.part`);
  }

  private async writeAtomic(path: string, data: string | Uint8Array, exclusive: boolean): Promise<boolean> {
    mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
    const tmp = this.tmp();
    await writeFile(tmp, data, { mode: FILE_MODE, flag: 'wx' });
    if (exclusive && existsSync(path)) {
      await rm(tmp, { force: true });
      return false;
    }
    await rename(tmp, path);
    return true;
  }

  async keyInfo(fresh: () => Promise<KeyInfo>): Promise<KeyInfo> {
    const path = join(this.root, 'key.json');
    if (!existsSync(path)) {
      mkdirSync(this.root, { recursive: true, mode: DIR_MODE });
      await this.writeAtomic(path, `${JSON.stringify(await fresh(), null, 2)}\n`, true);
    }
    try {
      return checkKeyInfo(JSON.parse(await readFile(path, 'utf8')));
    } catch (err) {
      if (err instanceof BlobError) throw err;
      throw new BlobError('BLOB_UNSUPPORTED_VERSION', `${path} is not a blob key record`);
    }
  }

  async has(key: string): Promise<boolean> {
    return existsSync(this.objectPath(key));
  }

  async begin(key: string, header: Uint8Array): Promise<ChunkWriter | undefined> {
    const final = this.objectPath(key);
    if (existsSync(final)) return undefined;
    const tmp = this.tmp();
    const fh: FileHandle = await open(tmp, 'wx', FILE_MODE);
    await fh.write(header);
    return {
      write: async (_i, sealed) => void (await fh.write(sealed)),
      commit: async () => {
        await fh.sync();
        await fh.close();
        mkdirSync(dirname(final), { recursive: true, mode: DIR_MODE });
        // Another writer may have stored the same content meanwhile: either file is the blob.
        await rename(tmp, final);
      },
      abort: async () => {
        await fh.close().catch(() => undefined);
        await rm(tmp, { force: true });
      },
    };
  }

  async header(key: string): Promise<Uint8Array | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.objectPath(key), 'r');
    } catch {
      return undefined;
    }
    try {
      const buf = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
      if (bytesRead < HEADER_BYTES) throw new BlobError('BLOB_TRUNCATED', 'the stored file is shorter than its header');
      return new Uint8Array(buf);
    } finally {
      await fh.close();
    }
  }

  async chunkCount(key: string, expected: number, length: (i: number) => number): Promise<number> {
    const size = (await stat(this.objectPath(key))).size - HEADER_BYTES;
    let at = 0;
    for (let i = 0; i < expected; i++) {
      at += length(i);
      if (at > size) return i;
    }
    return at === size ? expected : expected + 1;
  }

  async chunk(key: string, _index: number, where: { offset: number; length: number }): Promise<Uint8Array | undefined> {
    const fh = await open(this.objectPath(key), 'r');
    try {
      const buf = Buffer.alloc(where.length);
      const { bytesRead } = await fh.read(buf, 0, where.length, HEADER_BYTES + where.offset);
      return bytesRead === where.length ? new Uint8Array(buf) : undefined;
    } finally {
      await fh.close();
    }
  }

  async remove(key: string): Promise<boolean> {
    const path = this.objectPath(key);
    if (!existsSync(path)) return false;
    await rm(path, { force: true });
    await rmdir(dirname(path)).catch(() => undefined);
    return true;
  }

  async setRef(name: string, ref: BlobRef): Promise<void> {
    await this.writeAtomic(this.refPath(name), `${JSON.stringify(ref)}\n`, false);
  }

  async getRef(name: string): Promise<BlobRef | undefined> {
    try {
      const r = JSON.parse(await readFile(this.refPath(name), 'utf8')) as BlobRef;
      return { sha256: r.sha256, size: r.size };
    } catch {
      return undefined;
    }
  }

  async listRefs(prefix: string): Promise<{ name: string; ref: BlobRef }[]> {
    const base = join(this.root, 'refs');
    const out: { name: string; ref: BlobRef }[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) {
          const name = relative(base, p).split(sep).join('/');
          const ref = await this.getRef(name);
          if (ref) out.push({ name, ref });
        }
      }
    };
    await walk(this.refPath(prefix));
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async removeRef(name: string): Promise<boolean> {
    const path = this.refPath(name);
    if (!existsSync(path)) return false;
    await rm(path, { force: true });
    return true;
  }

  async close(): Promise<void> {}
}
