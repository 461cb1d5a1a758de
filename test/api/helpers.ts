// A fresh home folder with an API over it, and keys of every role.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initHome } from '../../src/home/index.js';
import { openApi, type ApiServices, type OpenApiOptions } from '../../src/api/server.js';
import { ROLES, type Role } from '../../src/api/roles.js';

export interface TestApi extends ApiServices {
  readonly dir: string;
  /** A bearer secret per role. */
  readonly secrets: Record<Role, string>;
  readonly logs: string[];
  req(path: string, init?: RequestInit & { role?: Role; secret?: string }): Promise<Response>;
  dispose(): Promise<void>;
}

export function makeTestApi(options: OpenApiOptions = {}): TestApi {
  const dir = mkdtempSync(join(tmpdir(), 'hm-api-'));
  initHome(dir);
  const logs: string[] = [];
  const api = openApi(dir, { log: (l) => logs.push(l), ...options });
  const secrets = Object.fromEntries(ROLES.map((r) => [r, api.keys.create({ role: r, name: `test ${r}` }).secret])) as Record<Role, string>;
  return {
    ...api,
    dir,
    secrets,
    logs,
    req(path, init = {}) {
      const { role, secret, ...rest } = init;
      const headers = new Headers(rest.headers);
      const s = secret ?? (role ? secrets[role] : undefined);
      if (s) headers.set('authorization', `Bearer ${s}`);
      return Promise.resolve(api.app.request(path, { ...rest, headers }));
    },
    async dispose() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error?: { code: string; message: string } };
  if (!body.error || typeof body.error.code !== 'string' || typeof body.error.message !== 'string') throw new Error(`not an error body: ${JSON.stringify(body)}`);
  return body.error;
}
