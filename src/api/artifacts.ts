// Files the API produces for download (provenance bundles, evidence folders, marked models) live
// under <home>/artifacts/<area>/<id>/. Ids and file names come from requests, so both are checked
// against strict patterns and the resolved path must stay inside the area: no traversal, no
// symlink games (a symlink is refused, only regular files are served).
import { createReadStream, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { ApiError } from './errors.js';

export type ArtifactArea = 'provenance' | 'evidence' | 'embed';

const ID_RE = /^[0-9a-f][0-9a-f-]{7,63}$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function artifactsDir(homeDir: string, area: ArtifactArea): string {
  return join(homeDir, 'artifacts', area);
}

/** The folder of one artifact; `id` is a hex digest or a job UUID. */
export function artifactDir(homeDir: string, area: ArtifactArea, id: string): string {
  if (!ID_RE.test(id)) throw new ApiError('API_BAD_NAME', 'artifact id must be a hex digest or a job id');
  return join(artifactsDir(homeDir, area), id);
}

export function ensureArtifactDir(homeDir: string, area: ArtifactArea, id: string): string {
  const dir = artifactDir(homeDir, area, id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** A file of an artifact, checked: a plain name, inside the folder, a regular file. */
export function artifactFile(homeDir: string, area: ArtifactArea, id: string, name: string): { path: string; size: number } {
  if (!NAME_RE.test(name) || name.includes('..')) throw new ApiError('API_BAD_NAME', 'file name must be 1-128 letters, digits, ".", "-" or "_", start with a letter or digit, and contain no ".." or "/"');
  const dir = resolve(artifactDir(homeDir, area, id));
  const path = resolve(dir, name);
  if (!path.startsWith(dir + sep)) throw new ApiError('API_BAD_NAME', 'file name escapes the artifact folder');
  let st;
  try {
    st = lstatSync(path);
  } catch {
    throw new ApiError('API_NOT_FOUND', `no file "${name}" in ${area} ${id}`);
  }
  if (!st.isFile()) throw new ApiError('API_NOT_FOUND', `no file "${name}" in ${area} ${id}`);
  return { path, size: st.size };
}

/** Regular files directly in an artifact folder, sorted ([] when it does not exist). */
export function listArtifactFiles(homeDir: string, area: ArtifactArea, id: string): string[] {
  try {
    return readdirSync(artifactDir(homeDir, area, id), { withFileTypes: true }).filter((d) => d.isFile() && NAME_RE.test(d.name)).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

const MEDIA: Record<string, string> = { json: 'application/json', pdf: 'application/pdf', md: 'text/markdown; charset=utf-8', onnx: 'application/onnx', bin: 'application/octet-stream', safetensors: 'application/octet-stream' };

/** Headers of a file sent as an attachment. */
export function attachmentHeaders(name: string, size: number): Record<string, string> {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  return {
    'content-type': MEDIA[ext] ?? 'application/octet-stream',
    'content-length': String(size),
    'content-disposition': `attachment; filename="${name}"`,
    'x-content-type-options': 'nosniff',
  };
}

/** Streams a checked file as an attachment. */
export function fileResponse(file: { path: string; size: number }, name: string): Response {
  const body = Readable.toWeb(createReadStream(file.path)) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: 200, headers: attachmentHeaders(name, file.size) });
}
