// A witness's memory: per log origin, the latest checkpoint it cosigned. Kept in one JSON file
// replaced atomically (write aside, fsync, rename, fsync the folder), so a crash at any point
// leaves either the old state or the new one, never a torn file.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { WitnessError } from './errors.js';

export interface LogState {
  readonly size: number;
  /** base64 root hash */
  readonly root: string;
  /** The checkpoint with the log's signature and ours, for the monitoring endpoint. */
  readonly note: string;
}

export class WitnessState {
  private logs: Record<string, LogState>;

  constructor(private readonly path: string) {
    this.logs = Object.create(null) as Record<string, LogState>;
    if (!existsSync(path)) return;
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new WitnessError('WITNESS_BAD_STATE', `witness state ${path} is not JSON`, { cause: err });
    }
    const o = v as { version?: unknown; logs?: unknown };
    if (typeof o !== 'object' || o === null || o.version !== 1 || typeof o.logs !== 'object' || o.logs === null) throw new WitnessError('WITNESS_BAD_STATE', `witness state ${path} is not a version 1 state file`);
    for (const [origin, s] of Object.entries(o.logs as Record<string, LogState>)) {
      if (!Number.isSafeInteger(s?.size) || typeof s.root !== 'string' || typeof s.note !== 'string') throw new WitnessError('WITNESS_BAD_STATE', `witness state for ${origin} is malformed`);
      this.logs[origin] = { size: s.size, root: s.root, note: s.note };
    }
  }

  get(origin: string): LogState | undefined {
    return Object.hasOwn(this.logs, origin) ? this.logs[origin] : undefined;
  }

  /** Records the new latest checkpoint; durable when this returns. */
  set(origin: string, s: LogState): void {
    const next = { ...this.logs, [origin]: s };
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify({ version: 1, logs: next }, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dfd = openSync(dirname(this.path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
    this.logs = Object.assign(Object.create(null) as Record<string, LogState>, next);
  }
}
