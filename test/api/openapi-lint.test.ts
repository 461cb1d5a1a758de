// /openapi.json as other tools read it: Redocly's linter with its recommended rules (no error and
// no warning) and APIDevTools' swagger-parser validation; /docs renders its schemas as tables
// with an anchor per route. Both tools are dev dependencies run from node_modules, offline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/paths.js';
import { makeTestApi, type TestApi } from './helpers.js';

let t: TestApi;
let doc: Record<string, any>;
let file: string;
beforeAll(async () => {
  t = makeTestApi();
  doc = (await (await t.req('/openapi.json')).json()) as Record<string, any>;
  file = join(mkdtempSync(join(tmpdir(), 'hm-oas-')), 'openapi.json');
  writeFileSync(file, JSON.stringify(doc, null, 2));
});
afterAll(() => t.dispose());

describe('/openapi.json', () => {
  it('passes `redocly lint` with the recommended rules: no errors, no warnings', () => {
    const config = join(mkdtempSync(join(tmpdir(), 'hm-oas-')), 'redocly.yaml');
    writeFileSync(config, 'extends:\n  - recommended\n');
    const r = spawnSync(process.execPath, [join(REPO, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', file, '--config', config, '--format', 'json'], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', CI: 'true' },
    });
    const report = JSON.parse(r.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(r.status).toBe(0);
  }, 180_000);

  it('validates with swagger-parser (schema, $refs, unique operationIds)', async () => {
    const api = await SwaggerParser.validate(file);
    const ids = Object.values(api.paths ?? {}).flatMap((ops) => Object.values(ops as Record<string, { operationId?: string }>).map((o) => o.operationId));
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('marks public routes with an empty security list and names license and servers', () => {
    expect(doc.info.license).toMatchObject({ name: 'Apache-2.0' });
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    for (const ops of Object.values(doc.paths as Record<string, Record<string, any>>)) {
      for (const op of Object.values(ops)) {
        if (op['x-public']) expect(op.security).toEqual([]);
        else expect(op.security).toEqual([{ apiKey: [] }]);
      }
    }
  });
});

describe('/docs', () => {
  it('renders request and response schemas as tables, an anchor per route, no stray backticks', async () => {
    const html = await (await t.req('/docs')).text();
    const ids = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]!);
    const count = Object.values(doc.paths as Record<string, object>).reduce((n, ops) => n + Object.keys(ops).length, 0);
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(html).toContain(`href="#${id}"`);
    // The embed request's fields appear as rows, with type and required columns.
    const embed = html.slice(html.indexOf('id="post-v1-embed"'));
    expect(embed).toMatch(/<th scope="col">Field<\/th>/);
    expect(embed).toMatch(/<tr><td><code>modelId<\/code><\/td><td>string<\/td><td>yes<\/td>/);
    expect(html).not.toContain('`');
    expect(html).not.toMatch(/"\$ref"|"properties":/);
  });
});
