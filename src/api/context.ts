// What the app is built from, and what every handler can reach through c.var.
import type { MiddlewareHandler } from 'hono';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Clock, Ledger } from '../../ledger/index.js';
import type { CheckpointPolicy } from './checkpoint-policy.js';
import type { Logger } from './errors.js';
import type { JobRunner } from './jobs.js';
import type { ApiKeyInfo, KeyStore } from './keys.js';

export interface ApiLimits {
  /** Largest JSON request body, in bytes. */
  readonly jsonBodyBytes: number;
  /** Largest uploaded model or dataset file, in bytes. */
  readonly uploadBytes: number;
  /** Uploads per API key per window. */
  readonly uploadsPerWindow: number;
  /** Verification and calibration requests per API key per window. */
  readonly verificationsPerWindow: number;
  readonly windowMs: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  jsonBodyBytes: 1 << 20,
  uploadBytes: 2 * 1024 ** 3,
  uploadsPerWindow: 60,
  verificationsPerWindow: 30,
  windowMs: 60_000,
};

export interface AppOptions {
  readonly ledger: Ledger;
  readonly keys: KeyStore;
  readonly jobs: JobRunner;
  /** The home folder: uploads are stored under it, jobs open it in their worker threads. */
  readonly homeDir: string;
  readonly clock?: Clock;
  readonly limits?: Partial<ApiLimits>;
  /** Server-side log; receives no secrets. Default: stderr. */
  readonly log?: Logger;
  /** Whether job workers get a passphrase for the watermark secrets (embed, verify, evidence). */
  readonly hasPassphrase?: boolean;
  /** If set, the only host[:port] values a verification endpoint URL may name (SSRF guard). */
  readonly endpointHosts?: readonly string[];
  /** Extra route groups (later issues add theirs in routes/index.ts). */
  readonly groups?: readonly RouteGroup[];
  /** When the server signs checkpoints (openApi starts one); without it, reads serve stored ones only. */
  readonly checkpoints?: CheckpointPolicy;
  /** The owner's signer key (openApi: from the opened home); default: read from the home folder. */
  readonly ownerSignerKey?: () => string;
  /** issue 15: the checkpoint served at /tlog/checkpoint (default: the latest signed one). */
  readonly publishedCheckpoint?: import('./routes/tiles.js').PublishedCheckpoint;
  /** issue 16: the console at /console (session limits), or false to leave it out. */
  readonly console?: import('../console/index.js').ConsoleOptions | false;
}

/** Everything a route group may use. */
export interface AppDeps {
  readonly ledger: Ledger;
  readonly keys: KeyStore;
  readonly jobs: JobRunner;
  readonly homeDir: string;
  readonly clock: Clock;
  readonly limits: ApiLimits;
  readonly log: Logger;
  readonly hasPassphrase: boolean;
  readonly endpointHosts?: readonly string[];
  /** The owner's signer key, for routes that sign inline (provenance). */
  readonly ownerSignerKey: () => string;
  /** The checkpoint signing interval, for messages (0: no timer). */
  readonly checkpointIntervalMs: number;
  /** Per-key rate limiters, applied after authentication. */
  readonly rateLimit: { readonly upload: MiddlewareHandler<AppEnv>; readonly verify: MiddlewareHandler<AppEnv> };
}

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    /** The authenticated caller; absent on public routes. */
    key?: ApiKeyInfo;
  };
}

export type ApiApp = OpenAPIHono<AppEnv>;

/** A group of routes; each file under routes/ exports one. */
export type RouteGroup = (app: ApiApp, deps: AppDeps) => void;

/** The ledger actor for the caller of a route: `key:<id>`. */
export function actorOf(key: ApiKeyInfo | undefined): string {
  return key ? `key:${key.id}` : 'api:anonymous';
}
