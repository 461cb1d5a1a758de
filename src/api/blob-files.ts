// Where the API keeps files: the blob store (src/blobs), shared by every replica. Uploads are
// stored under their SHA-256 and named uploads/<area>/<sha256>/<file> (the `hallmark.stored`
// path the API has always reported, now a name in the store, not a path on this replica's disk);
// job outputs are named artifacts/<area>/<id>/<file>. Jobs copy what they read into a private
// work folder of their own replica for the time of the job. Homes written before the blob store
// keep working: a name that is not in the store falls back to the old file under the home.
import { randomUUID } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Ledger } from '../../ledger/index.js';
import { blobConfigFor, openBlobStore, type BlobRef, type BlobStore } from '../blobs/index.js';
import { HomeError } from '../home/index.js';
import { findModel, LineageError } from '../lineage/index.js';
import { artifactFile, attachmentHeaders, fileResponse, type ArtifactArea } from './artifacts.js';
import { ApiError } from './errors.js';

export type UploadArea = 'models' | 'datasets' | 'suspects';

const stores = new Map<string, Promise<BlobStore>>();

/** The server's store for this home (openApi registers it); else one opened from the environment. */
export function blobsFor(homeDir: string, passphrase?: string): Promise<BlobStore> {
  const k = resolve(homeDir);
  let p = stores.get(k);
  if (!p) {
    p = openBlobStore(blobConfigFor(homeDir, { ...(passphrase ?? process.env.HALLMARK_PASSPHRASE ? { passphrase: passphrase ?? process.env.HALLMARK_PASSPHRASE } : {}) }));
    stores.set(k, p);
    p.catch(() => stores.delete(k));
  }
  return p;
}

/**
 * openApi: opens (and, on PostgreSQL, migrates) the home's store, checks its key, and keeps it
 * for the routes. `ready` settles once that is done (serve waits for it, so a wrong key or an
 * unreachable database stops the server at startup).
 */
export function openApiBlobs(homeDir: string, passphrase: string | undefined): { ready: Promise<void>; close(): Promise<void> } {
  const k = resolve(homeDir);
  const p = openBlobStore(blobConfigFor(homeDir, passphrase ? { passphrase } : {}), { create: true });
  stores.set(k, p);
  const ready = p.then(async (s) => void (await (s as { keys?: () => Promise<unknown> }).keys?.()));
  ready.catch(() => undefined); // reported to whoever awaits it (serve, the first request)
  return {
    ready,
    async close() {
      if (stores.get(k) === p) stores.delete(k);
      await (await p.catch(() => undefined))?.close();
    },
  };
}

/** serve: resolves when the home's store is open and its key checked. */
export async function blobsReady(homeDir: string): Promise<void> {
  const s = await blobsFor(homeDir);
  await (s as { keys?: () => Promise<unknown> }).keys?.();
}

export function uploadName(area: UploadArea, sha256: string, fileName: string): string {
  return `uploads/${area}/${sha256}/${fileName}`;
}

/** Seals an upload's temporary file into the store and names it; `created`: this call stored the bytes. */
export async function storeUpload(homeDir: string, tempPath: string, sha256: string, area: UploadArea, fileName: string): Promise<{ path: string; created: boolean }> {
  const blobs = await blobsFor(homeDir);
  const ref = await blobs.put({ path: tempPath }, { sha256 });
  const name = uploadName(area, sha256, fileName);
  await blobs.link(name, ref);
  return { path: name, created: ref.created };
}

/** Undoes storeUpload (a registration refused after the upload was stored). */
export async function removeStoredUpload(homeDir: string, path: string): Promise<void> {
  const blobs = await blobsFor(homeDir);
  const ref = await blobs.resolve(path);
  await blobs.unlink(path);
  if (ref) await blobs.remove(ref.sha256);
}

/** The old layout: a file under <home>/uploads or <home>/artifacts, checked to stay inside. */
function legacyFile(homeDir: string, name: string): string | undefined {
  const root = resolve(homeDir, name.split('/')[0]!);
  const path = resolve(homeDir, name);
  if (!path.startsWith(root + sep)) return undefined;
  try {
    return lstatSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an uploaded file is there (in the store, or an old home's file). */
export async function uploadExists(homeDir: string, area: UploadArea, sha256: string, fileName: string): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ApiError('API_BAD_NAME', 'suspect reference escapes the upload folder');
  const name = uploadName(area, sha256, fileName);
  return (await (await blobsFor(homeDir)).resolve(name)) !== undefined || legacyFile(homeDir, name) !== undefined;
}

/** The `hallmark.stored` name of a model registered by upload; API_INVALID_REQUEST when it was registered by digest. */
export function storedModelName(ledger: Ledger, modelId: string): string {
  const found = findModel(ledger, modelId);
  if (!found) throw new LineageError('LINEAGE_NOT_FOUND', `model ${modelId} is not registered in this ledger`);
  const stored = found.record.model.annotations?.['hallmark.stored'];
  if (typeof stored !== 'string' || !/^uploads\/[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(stored) || stored.includes('..')) {
    throw new ApiError('API_INVALID_REQUEST', `model ${modelId} was registered by digest, not uploaded: upload its file with PUT /v1/uploads/models/{fileName} first`);
  }
  return stored.split(sep).join('/');
}

/** Checks, before queueing a job, that a model's uploaded file can be read. */
export async function requireStoredModel(ledger: Ledger, homeDir: string, modelId: string): Promise<void> {
  const name = storedModelName(ledger, modelId);
  if ((await (await blobsFor(homeDir)).resolve(name)) || legacyFile(homeDir, name)) return;
  throw new ApiError('API_INVALID_REQUEST', `the uploaded file of model ${modelId} is not in this server's store: upload it again with PUT /v1/uploads/models/{fileName}`);
}

/** A job's private work folder on its replica, removed by the job when it ends. */
export function jobWorkDir(homeDir: string, jobId: string): string {
  const dir = join(homeDir, 'work', /^[0-9a-f-]{8,64}$/.test(jobId) ? jobId : randomUUID());
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new HomeError('HOME_CORRUPT', `cannot create the job's work folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'failed'}`);
  }
  return dir;
}

/** Copies a stored upload (by name) into `workDir` under its file name; the path to read. */
export async function materialize(blobs: BlobStore, homeDir: string, name: string, workDir: string): Promise<string> {
  const ref = await blobs.resolve(name);
  if (!ref) {
    const old = legacyFile(homeDir, name);
    if (old) return old;
    throw new ApiError('API_NOT_FOUND', `no stored file ${name.split('/').slice(0, 2).join('/')}/${name.split('/')[2]?.slice(0, 12) ?? ''}...`);
  }
  const file = name.split('/').pop()!;
  const path = join(workDir, file);
  await blobs.toFile(ref.sha256, path);
  return path;
}

export function artifactName(area: ArtifactArea, id: string, file: string): string {
  return `artifacts/${area}/${id}/${file}`;
}

/** Moves the regular files of a job's local output folder into the store; returns their names and refs. */
export async function storeArtifactFolder(blobs: BlobStore, area: ArtifactArea, id: string, dir: string): Promise<{ name: string; ref: BlobRef }[]> {
  const out: { name: string; ref: BlobRef }[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const r = await blobs.put({ path: join(dir, d.name) });
    const ref = { sha256: r.sha256, size: r.size };
    await blobs.link(artifactName(area, id, d.name), ref);
    out.push({ name: d.name, ref });
  }
  await rm(dir, { recursive: true, force: true });
  return out;
}

export async function storeArtifactBytes(homeDir: string, area: ArtifactArea, id: string, file: string, bytes: Uint8Array): Promise<BlobRef> {
  const blobs = await blobsFor(homeDir);
  const r = await blobs.put(bytes);
  const ref = { sha256: r.sha256, size: r.size };
  await blobs.link(artifactName(area, id, file), ref);
  return ref;
}

/** A job's or bundle's file: its size and a streaming download (the store, or an old home's file). */
export async function artifactDownload(homeDir: string, area: ArtifactArea, id: string, file: string): Promise<{ size: number; response(as: string): Promise<Response> }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(file) || file.includes('..') || !/^[0-9a-f][0-9a-f-]{7,63}$/.test(id)) throw new ApiError('API_BAD_NAME', 'file name must be 1-128 letters, digits, ".", "-" or "_", start with a letter or digit, and contain no ".." or "/"');
  const blobs = await blobsFor(homeDir);
  const ref = await blobs.resolve(artifactName(area, id, file));
  if (!ref) {
    const old = artifactFile(homeDir, area, id, file); // API_NOT_FOUND when absent
    return { size: old.size, response: async (as) => fileResponse(old, as) };
  }
  return { size: ref.size, response: (as) => blobResponse(blobs, ref, as) };
}

/** Streams a stored blob as an attachment: header and chunk count are checked before the status line, every chunk as it goes. */
export async function blobResponse(blobs: BlobStore, ref: BlobRef, name: string): Promise<Response> {
  const opened = await blobs.open(ref.sha256);
  const it = opened.chunks[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const { value, done } = await it.next();
        if (done) ctrl.close();
        else ctrl.enqueue(value);
      } catch (err) {
        ctrl.error(err); // the connection is cut: a client never gets bytes that did not verify
      }
    },
    cancel: () => void it.return?.(undefined),
  });
  return new Response(body, { status: 200, headers: attachmentHeaders(name, opened.size) });
}

/**
 * A job's view of the store: its own connection (jobs run in worker threads), opened with the
 * server's configuration (--blobs / --database / key, handed down by environment) and passphrase,
 * and a private work folder on this replica that is removed when the job ends, however it ends.
 */
export async function withJobBlobs<T>(ctx: { readonly homeDir: string; readonly jobId: string; readonly passphrase?: string }, fn: (blobs: BlobStore, workDir: string) => Promise<T>): Promise<T> {
  const work = jobWorkDir(ctx.homeDir, ctx.jobId);
  let blobs: BlobStore;
  try {
    blobs = await openBlobStore(blobConfigFor(ctx.homeDir, ctx.passphrase ? { passphrase: ctx.passphrase } : {}));
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
  try {
    return await fn(blobs, work);
  } finally {
    await rm(work, { recursive: true, force: true });
    await blobs.close();
  }
}
