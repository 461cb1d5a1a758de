// The file behind a model registered by upload (its `hallmark.stored` annotation, a path under
// <home>/uploads). Jobs that read a model (embed, verify) take a model id, never a path, so a
// request can only point at files the server itself stored.
import { existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { Ledger } from '../../ledger/index.js';
import { findModel, LineageError } from '../lineage/index.js';
import { ApiError } from './errors.js';
import { uploadsDir } from './upload.js';

export function storedModelPath(ledger: Ledger, homeDir: string, modelId: string): string {
  const found = findModel(ledger, modelId);
  if (!found) throw new LineageError('LINEAGE_NOT_FOUND', `model ${modelId} is not registered in this ledger`);
  const stored = found.record.model.annotations?.['hallmark.stored'];
  const root = resolve(uploadsDir(homeDir));
  const path = typeof stored === 'string' ? resolve(homeDir, stored) : undefined;
  if (!path || !path.startsWith(root + sep) || !existsSync(path)) {
    throw new ApiError('API_INVALID_REQUEST', `model ${modelId} was registered by digest, not uploaded: upload its file with PUT /v1/uploads/models/{fileName} first`);
  }
  return path;
}

/** An uploaded suspect's path: uploads/suspects/<sha256>/<name>, checked to stay inside. */
export function suspectPath(homeDir: string, upload: string, name: string): string {
  const root = resolve(uploadsDir(homeDir), 'suspects');
  const path = resolve(root, upload, name);
  if (!/^[0-9a-f]{64}$/.test(upload) || !path.startsWith(root + sep)) throw new ApiError('API_BAD_NAME', 'suspect reference escapes the upload folder');
  return path;
}
